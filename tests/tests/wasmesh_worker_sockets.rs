//! A listening socket per worker with `SO_REUSEPORT` (`wasmesh_tests::scenarios::worker_sockets`).

#[test]
fn a_socket_per_worker() {
    wasmesh_tests::scenarios::worker_sockets::a_socket_per_worker();
}
