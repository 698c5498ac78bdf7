//! The `scale` mode: each host at several worker counts, the workers on cores of their own and
//! wrk and the backend on others, so requests/s at `N` workers shows how a host scales and the
//! load's own CPU use shows when it, not the proxy, was the limit.

pub mod layout;
pub mod measure;
pub mod report;
