#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hush_node::fuzzing::community_server(data);
});
