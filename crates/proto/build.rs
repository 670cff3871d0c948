//! Compiles `proto/` with protox (pure Rust, no `protoc`) and generates tonic code from the
//! resulting descriptor set, which is also kept for server reflection.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let mut files = Vec::new();
    collect_protos(&root, &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let mut compiler = protox::Compiler::new([&root])?;
    let compiled = compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(&files)?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // Encoded by the compiler itself, so that options set by extensions (the fields'
    // `google.api.field_behavior`) reach reflection; prost's types would drop them.
    std::fs::write(
        out_dir.join("assay_descriptor.bin"),
        compiled.encode_file_descriptor_set(),
    )?;
    let fds = compiled.file_descriptor_set();

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Written by hand, so that what a message says in advance is borrowed, not copied
        // (`src/message.rs`).
        .extern_path(".assay.common.v1.Message", "crate::message::Message")
        .compile_fds(fds)?;
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
