//! Running staticd in production: the `[metrics]` listener, health and Prometheus metrics.

mod metrics;
