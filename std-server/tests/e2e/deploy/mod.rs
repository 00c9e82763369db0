//! Running staticd in production: the `[metrics]` listener, health and Prometheus metrics,
//! balancers in front (`[proxy]`: the PROXY protocol, X-Forwarded-For), and two replicas behind
//! HAProxy.

mod haproxy;
mod metrics;
mod proxy;
