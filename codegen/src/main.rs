//! `cargo run -p haul-codegen`: regenerates every checked-in generated file
//! (`clients/`, `docs/`) from `openrpc.json`. `--check` writes nothing and
//! fails, naming each stale file, when the tree differs from what the
//! generator emits now.

use std::{fs, path::Path, process::ExitCode};

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("error: unexpected argument `{other}`\nusage: haul-codegen [--check]");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = root.join("openrpc.json");
    let api = match fs::read_to_string(&spec)
        .map_err(|e| e.to_string())
        .and_then(|text| haul_codegen::Api::parse_str(&text).map_err(|e| e.to_string()))
    {
        Ok(api) => api,
        Err(e) => {
            eprintln!("error: {}: {e}", spec.display());
            return ExitCode::FAILURE;
        }
    };
    let mut stale = 0;
    for out in haul_codegen::outputs(&api) {
        let path = root.join(&out.path);
        if fs::read_to_string(&path).ok().as_deref() == Some(out.text.as_str()) {
            continue;
        }
        stale += 1;
        if check {
            eprintln!("stale: {}", out.path);
            continue;
        }
        let written = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::write(&path, &out.text));
        match written {
            Ok(()) => println!("wrote {}", out.path),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if check && stale > 0 {
        eprintln!(
            "{stale} generated file(s) differ from openrpc.json: regenerate with `{}`",
            haul_codegen::REGENERATE
        );
        return ExitCode::FAILURE;
    }
    if !check && stale == 0 {
        println!("every generated file is up to date");
    }
    ExitCode::SUCCESS
}
