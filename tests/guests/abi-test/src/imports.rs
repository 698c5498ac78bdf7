//! The host's `env` imports the raw calls are made through, with the ABI's wasm signatures
//! (the same the SDK declares): `crate::raw` and `crate::probe` call them to see raw statuses.

#![allow(unsafe_code)] // FFI declarations of the host's functions.

#[link(wasm_import_module = "env")]
extern "C" {
    pub(crate) fn proxy_add_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    pub(crate) fn proxy_call_foreign_function(
        function_name_data: *const u8,
        function_name_size: usize,
        arguments_data: *const u8,
        arguments_size: usize,
        results_data: *mut *mut u8,
        results_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_close_stream(stream_type: u32) -> u32;
    pub(crate) fn proxy_continue_stream(stream_type: u32) -> u32;
    pub(crate) fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_dequeue_shared_queue(
        queue_id: u32,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_done() -> u32;
    pub(crate) fn proxy_enqueue_shared_queue(
        queue_id: u32,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    pub(crate) fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_get_buffer_status(
        buffer_type: u32,
        return_buffer_size: *mut usize,
        return_flags: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    pub(crate) fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_get_header_map_size(map_type: u32, return_size: *mut usize) -> u32;
    pub(crate) fn proxy_get_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_get_log_level(return_level: *mut u32) -> u32;
    pub(crate) fn proxy_get_metric(metric_id: u32, return_value: *mut u64) -> u32;
    pub(crate) fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_get_status(
        return_code: *mut u32,
        return_message_data: *mut *mut u8,
        return_message_size: *mut usize,
    ) -> u32;
    pub(crate) fn proxy_grpc_call(
        upstream_data: *const u8,
        upstream_size: usize,
        service_name_data: *const u8,
        service_name_size: usize,
        method_name_data: *const u8,
        method_name_size: usize,
        initial_metadata_data: *const u8,
        initial_metadata_size: usize,
        message_data: *const u8,
        message_size: usize,
        timeout_ms: u32,
        return_call_id: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_grpc_cancel(call_or_stream_id: u32) -> u32;
    pub(crate) fn proxy_grpc_close(call_or_stream_id: u32) -> u32;
    pub(crate) fn proxy_grpc_send(
        stream_id: u32,
        message_data: *const u8,
        message_size: usize,
        end_stream: bool,
    ) -> u32;
    pub(crate) fn proxy_grpc_stream(
        upstream_data: *const u8,
        upstream_size: usize,
        service_name_data: *const u8,
        service_name_size: usize,
        method_name_data: *const u8,
        method_name_size: usize,
        initial_metadata_data: *const u8,
        initial_metadata_size: usize,
        return_stream_id: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_http_call(
        upstream_data: *const u8,
        upstream_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        body_data: *const u8,
        body_size: usize,
        trailers_data: *const u8,
        trailers_size: usize,
        timeout: u32,
        return_token: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    pub(crate) fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    pub(crate) fn proxy_register_shared_queue(
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_remove_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
    ) -> u32;
    pub(crate) fn proxy_resolve_shared_queue(
        vm_id_data: *const u8,
        vm_id_size: usize,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    pub(crate) fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
    pub(crate) fn proxy_set_effective_context(context_id: u32) -> u32;
    pub(crate) fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    pub(crate) fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    pub(crate) fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
}
