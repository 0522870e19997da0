//! The generated Rust is reviewed like hand-written code: any change to it
//! shows up as a snapshot diff.

#[test]
fn generated_rust_matches_the_reviewed_snapshot() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openrpc.json")).unwrap();
    let api = haul_codegen::Api::parse_str(&text).unwrap();
    insta::assert_snapshot!("api.rs", haul_codegen::rust::generate(&api));
}
