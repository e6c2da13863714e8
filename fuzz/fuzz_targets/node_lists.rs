#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hush_node::fuzzing::node_lists(data));
