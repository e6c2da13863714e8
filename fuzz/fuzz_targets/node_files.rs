#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hush_node::fuzzing::file_server(data);
});
