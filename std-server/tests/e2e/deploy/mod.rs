//! Running staticd in production: the `[metrics]` listener, health and Prometheus metrics, and
//! balancers in front (`[proxy]`: the PROXY protocol, X-Forwarded-For).

mod metrics;
mod proxy;
