//! The systemd units in `contrib/`: `systemd-analyze verify` accepts them
//! (where systemd is present), the service keeps its sandbox, and what its
//! ExecStart passes, and where, agrees with the daemon and with the socket unit.

use std::path::Path;
use std::process::Command;

const SERVICE: &str = include_str!("../../contrib/haul.service");
const SOCKET: &str = include_str!("../../contrib/haul.socket");

/// Where the shipped ExecStart runs haul from (README.md says to install it there).
const INSTALLED: &str = "/usr/local/bin/haul";

/// The `Key=value` assignments of a unit file, in order (sections, comments
/// and blank lines left out). The units use no line continuations.
fn assignments(unit: &str) -> Vec<(&str, &str)> {
    unit.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with(['#', ';', '[']))
        .map(|line| {
            assert!(!line.ends_with('\\'), "a continued line: {line}");
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not Key=value: {line}"));
            (key.trim(), value.trim())
        })
        .collect()
}

/// Every value `key` is given, in order.
fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    assignments(unit)
        .into_iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect()
}

/// The service's one ExecStart, split into words (it quotes nothing).
fn exec_start() -> Vec<&'static str> {
    let lines = values(SERVICE, "ExecStart");
    assert_eq!(lines.len(), 1, "one ExecStart: {lines:?}");
    lines[0].split_whitespace().collect()
}

/// The value ExecStart gives `flag` each time it gives it.
fn flag_values(flag: &str) -> Vec<&'static str> {
    let words = exec_start();
    words
        .windows(2)
        .filter(|pair| pair[0] == flag)
        .map(|pair| pair[1])
        .collect()
}

#[test]
fn the_service_keeps_its_sandbox_and_nothing_loosens_it() {
    // Each key's assignments are exactly these: a second line that widened
    // one (another SystemCallFilter=, a CapabilityBoundingSet= with names
    // in it) fails as surely as a missing one.
    let required = [
        "User=haul",
        "Group=haul",
        "StateDirectory=haul",
        "StateDirectoryMode=0700",
        "RuntimeDirectory=haul",
        "ReadWritePaths=/srv/haul",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "AmbientCapabilities=",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateUsers=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged @resources",
        "KillSignal=SIGTERM",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ];
    let mut missing = Vec::new();
    for line in required {
        let (key, _) = line.split_once('=').unwrap();
        let wanted: Vec<&str> = required
            .iter()
            .filter_map(|r| r.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v)
            .collect();
        let found = values(SERVICE, key);
        if found != wanted {
            missing.push(format!("{key}: wanted {wanted:?}, the unit has {found:?}"));
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "contrib/haul.service:\n{}",
        missing.join("\n")
    );
    for absent in ["DynamicUser", "SupplementaryGroups"] {
        let found = values(SERVICE, absent);
        assert!(
            found.is_empty(),
            "{absent}= would undo choices the unit explains: {found:?}"
        );
    }
    assert_eq!(
        values(SERVICE, "TimeoutStopSec").len(),
        1,
        "a stop has time to checkpoint"
    );

    for line in [
        "ListenStream=/run/haul/haul.sock",
        "SocketMode=0660",
        "SocketGroup=haul",
    ] {
        let (key, value) = line.split_once('=').unwrap();
        assert!(
            values(SOCKET, key).contains(&value),
            "contrib/haul.socket lacks {line}"
        );
    }
}

#[test]
fn the_service_hands_the_daemon_its_state_directory_and_download_root() {
    let words = exec_start();
    assert_eq!(&words[..2], [INSTALLED, "daemon"], "ExecStart: {words:?}");
    let state = values(SERVICE, "StateDirectory");
    assert_eq!(
        flag_values("--state-dir"),
        [format!("/var/lib/{}", state[0])],
        "--state-dir is the StateDirectory= systemd makes and owns"
    );
    let roots = flag_values("--dir");
    assert_eq!(roots.len(), 1, "one --dir: {words:?}");
    assert!(
        values(SERVICE, "ReadWritePaths").contains(&roots[0]),
        "--dir {} is writable under ProtectSystem=strict only if ReadWritePaths= names it",
        roots[0]
    );
    for listen in flag_values("--listen") {
        if let Some(path) = listen.strip_prefix("unix:") {
            let runtime = values(SERVICE, "RuntimeDirectory");
            assert!(
                runtime.iter().any(|dir| Path::new(path).parent() == Some(Path::new("/run").join(dir).as_path())),
                "the socket {path} is in a RuntimeDirectory= (the daemon may create it there): {runtime:?}"
            );
        }
    }
}

#[test]
fn the_socket_unit_listens_where_the_service_does() {
    // Started by haul.socket or by itself, the daemon is reached at the
    // same addresses, so clients need not know which.
    let mut service: Vec<String> = flag_values("--listen")
        .into_iter()
        .map(|address| address.strip_prefix("unix:").unwrap_or(address).to_owned())
        .collect();
    let mut socket: Vec<String> = values(SOCKET, "ListenStream")
        .into_iter()
        .map(str::to_owned)
        .collect();
    service.sort();
    socket.sort();
    assert_eq!(
        service, socket,
        "the service's --listen and the socket's ListenStream="
    );
}

#[test]
fn every_flag_the_service_passes_is_a_haul_daemon_flag_with_a_valid_value() {
    let haul = env!("CARGO_BIN_EXE_haul");
    let help = Command::new(haul)
        .args(["daemon", "--help"])
        .output()
        .expect("haul runs");
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let help = String::from_utf8_lossy(&help.stdout);
    // The flags are the `--name` words of the lines that start with a dash
    // (`--dir <DIR>`, `-x, --split <N>`), not those the descriptions mention.
    let known: Vec<&str> = help
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with('-'))
        .flat_map(|line| line.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|word| word.starts_with("--"))
        .map(|word| word.split(['=', '[', '<']).next().unwrap_or(word))
        .collect();
    let words = exec_start();
    let unknown: Vec<&str> = words[2..]
        .iter()
        .copied()
        .filter(|word| word.starts_with("--"))
        .map(|word| word.split('=').next().unwrap_or(word))
        .filter(|flag| !known.contains(flag))
        .collect();
    assert!(
        unknown.is_empty(),
        "ExecStart passes {unknown:?}, which `haul daemon --help` does not list:\n{help}"
    );

    // clap parses each value as it meets it, before `--help` stops it: a
    // value the daemon would refuse (an address it cannot parse, a flag
    // given twice that takes one value) fails here, without starting it.
    let parsed = Command::new(haul)
        .args(&words[1..])
        .arg("--help")
        .output()
        .expect("haul runs");
    assert!(
        parsed.status.success(),
        "`haul {} --help` fails:\n{}",
        words[1..].join(" "),
        String::from_utf8_lossy(&parsed.stderr)
    );
}

#[test]
fn systemd_analyze_verify_accepts_the_units_where_systemd_is_present() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: systemd-analyze is not installed (the units are checked where systemd is present)");
        return;
    }
    // verify checks that ExecStart's program exists, so the copies run the
    // haul just built; everything else is the shipped text. It does not look
    // users or groups up, so User=haul and SocketGroup=haul pass on a
    // machine without them.
    let dir = tempfile::Builder::new()
        .prefix("haul-units")
        .tempdir()
        .expect("a temporary directory");
    let built = env!("CARGO_BIN_EXE_haul");
    // Quoted for systemd's command line, `%` being its specifiers' mark.
    let program = format!("\"{}\"", built.replace('%', "%%"));
    let exec = format!("ExecStart={INSTALLED} ");
    assert_eq!(
        SERVICE.matches(&exec).count(),
        1,
        "ExecStart starts with {INSTALLED}"
    );
    let service = SERVICE.replace(&exec, &format!("ExecStart={program} "));
    let (service_path, socket_path) = (
        dir.path().join("haul.service"),
        dir.path().join("haul.socket"),
    );
    std::fs::write(&service_path, &service).unwrap();
    std::fs::write(&socket_path, SOCKET).unwrap();

    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(service_path)
        .arg(socket_path)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("systemd-analyze runs");
    // Warnings (an unknown key, a bad value) leave the status 0: anything
    // said is a failure.
    let said = String::from_utf8_lossy(&output.stderr);
    let said = said.trim();
    assert!(
        output.status.success() && said.is_empty(),
        "systemd-analyze verify ({}): {}\n--- the service as verified:\n{service}",
        output.status,
        if said.is_empty() {
            "(nothing on stderr)"
        } else {
            said
        }
    );
}
