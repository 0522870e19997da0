//! `cargo run -p haul-codegen`: regenerates every checked-in generated file
//! (`clients/`, `docs/`) from `openrpc.json` and the released contracts
//! (`contract/released/`, for the changes page). `--check` writes nothing and
//! fails, naming each stale file, when the tree differs from what the
//! generator emits now.
//!
//! `diff OLD NEW` compares two documents ([`haul_codegen::diff`]), prints a
//! line per change and exits 1 when one is breaking (2: cannot read them).

use std::{fs, path::Path, process::ExitCode};

use haul_codegen::{diff, release, Api};

const USAGE: &str = "usage: haul-codegen [--check]\n       haul-codegen diff OLD NEW";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => generate(false),
        ["--check"] => generate(true),
        ["diff", old, new] => compare(old, new),
        [first, ..] => {
            eprintln!("error: unexpected arguments `{}`\n{USAGE}", args.join(" "));
            // `diff` with the wrong number of paths is the likely slip.
            if *first == "diff" {
                eprintln!("hint: diff takes two paths, the older document first");
            }
            ExitCode::from(2)
        }
    }
}

/// `diff OLD NEW`: the changes on stdout, their summary on stderr.
fn compare(old: &str, new: &str) -> ExitCode {
    let read = |path: &str| {
        fs::read_to_string(path)
            .map_err(|e| format!("cannot read {path}: {e}"))
            .and_then(|text| Api::parse_str(&text).map_err(|e| format!("{path}: {e}")))
    };
    let (old, new) = match (read(old), read(new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let changes = diff::diff(&old, &new);
    for change in &changes {
        println!("{change}");
    }
    eprintln!("{}", diff::summary(&changes));
    if diff::breaks(&changes) {
        eprintln!(
            "a release with these changes needs a new major version (a new minor one before 1.0)"
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Writes (or with `check`, only compares) every generated file.
fn generate(check: bool) -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = root.join("openrpc.json");
    let parsed = fs::read_to_string(&spec)
        .map_err(|e| e.to_string())
        .and_then(|text| Ok((Api::parse_str(&text).map_err(|e| e.to_string())?, text)));
    let (api, document) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {}: {e}", spec.display());
            return ExitCode::FAILURE;
        }
    };
    let released = match release::load(&root.join(release::RELEASED_DIR)) {
        Ok(released) => released,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = 0;
    for out in haul_codegen::outputs(&document, &api, &released) {
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
