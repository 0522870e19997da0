//! Where the ports listen: TCP addresses, unix sockets (`unix:/run/haul/haul.sock`),
//! and the sockets systemd hands over (socket activation, `LISTEN_FDS`);
//! and who may connect (`--rpc-allow-ip`), checked before a byte is read.
//!
//! Both ports (the API's and the aria2 one) accept through [`Listener`], and
//! serve each connection as a [`Stream`] whatever it came over.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// An address to listen on, as `--listen` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Tcp(SocketAddr),
    /// `unix:PATH`.
    Unix(PathBuf),
}

impl FromStr for Address {
    type Err = String;

    fn from_str(text: &str) -> Result<Address, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(format!(
                    "the socket path `{}` is not absolute (e.g. unix:/run/haul/haul.sock)",
                    path.display()
                ));
            }
            return Ok(Address::Unix(path));
        }
        text.parse().map(Address::Tcp).map_err(|_| {
            format!("`{text}` is neither HOST:PORT (e.g. 127.0.0.1:6801) nor unix:PATH")
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(address) => write!(f, "{address}"),
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A bound socket, TCP or unix.
pub enum Listener {
    Tcp(TcpListener),
    Unix {
        listener: UnixListener,
        /// The socket file to remove at the end; `None` for one systemd
        /// made, which stays its to manage.
        owned: Option<PathBuf>,
    },
}

impl Listener {
    /// Binds `address`. A unix socket is made mode 0660: the daemon's
    /// group may connect (and still needs a token). A socket file left by
    /// a daemon that died is replaced; one another daemon serves is not.
    pub async fn bind(address: &Address) -> io::Result<Listener> {
        match address {
            Address::Tcp(address) => TcpListener::bind(address).await.map(Listener::Tcp),
            Address::Unix(path) => {
                remove_stale_socket(path).await?;
                // Bound with the process's umask, whose default leaves
                // others unable to connect until the mode below is set.
                let listener = UnixListener::bind(path)?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
                Ok(Listener::Unix {
                    listener,
                    owned: Some(path.clone()),
                })
            }
        }
    }

    /// Where it listens: the bound port (for port 0), or the socket's path.
    pub fn address(&self) -> io::Result<Address> {
        match self {
            Listener::Tcp(listener) => listener.local_addr().map(Address::Tcp),
            Listener::Unix { listener, .. } => {
                let address = listener.local_addr()?;
                let path = address.as_pathname().unwrap_or(Path::new("(unnamed)"));
                Ok(Address::Unix(path.to_owned()))
            }
        }
    }

    /// Whether only this machine can reach it: a loopback address or a
    /// unix socket.
    pub fn is_local(&self) -> bool {
        match self.address() {
            Ok(Address::Tcp(address)) => address.ip().is_loopback(),
            Ok(Address::Unix(_)) => true,
            Err(_) => false,
        }
    }

    pub async fn accept(&self) -> io::Result<(Stream, Peer)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, remote) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok((Stream::Tcp(stream), Peer::Ip(remote)))
            }
            Listener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok((Stream::Unix(stream), Peer::Unix))
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix {
            owned: Some(path), ..
        } = self
        {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Removes a socket file nothing listens on any more. Anything else at
/// the path (a live socket, a file) is left, and binding then fails.
async fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !metadata.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("another process serves {}", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path),
        Err(e) => Err(e),
    }
}

/// The sockets systemd passed (`LISTEN_PID` is this process, `LISTEN_FDS`
/// of them from fd 3), TCP or unix, in order; none when not activated.
/// The variables are cleared, so nothing started later takes them too.
pub fn activated() -> io::Result<Vec<Listener>> {
    const FIRST: RawFd = 3;
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| pid == std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|count| count.parse::<RawFd>().ok())
        .unwrap_or(0);
    if !ours || count <= 0 {
        return Ok(Vec::new());
    }
    for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(name);
    }
    (FIRST..FIRST + count).map(inherited).collect()
}

fn inherited(fd: RawFd) -> io::Result<Listener> {
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut length = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage` is large enough for any address, `length` says so.
    let named = unsafe { libc::getsockname(fd, (&raw mut storage).cast(), &raw mut length) };
    if named != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("the socket systemd passed as fd {fd} is not usable: {e}"),
        ));
    }
    // SAFETY: systemd passed the fd for this process to own; nothing else
    // in it uses fds from 3 on before this runs.
    match i32::from(storage.ss_family) {
        libc::AF_UNIX => {
            let listener = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
            listener.set_nonblocking(true)?;
            Ok(Listener::Unix {
                listener: UnixListener::from_std(listener)?,
                owned: None,
            })
        }
        libc::AF_INET | libc::AF_INET6 => {
            let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
            listener.set_nonblocking(true)?;
            Ok(Listener::Tcp(TcpListener::from_std(listener)?))
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the socket systemd passed as fd {fd} is of family {family}, neither TCP nor unix"
            ),
        )),
    }
}

/// Who connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Ip(SocketAddr),
    /// Over a unix socket: someone the socket file's mode let in.
    Unix,
}

impl Peer {
    /// The address failures are counted against: a unix socket's peers
    /// share one (they are all on this machine, and its mode chose them).
    pub fn ip(self) -> IpAddr {
        match self {
            Peer::Ip(address) => address.ip().to_canonical(),
            Peer::Unix => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Ip(address) => write!(f, "{address}"),
            Peer::Unix => f.write_str("unix socket"),
        }
    }
}

/// `--rpc-allow-ip`: the networks a TCP peer must be in (none given: any).
/// Unix peers are let in by the socket file's mode instead.
#[derive(Debug, Clone, Default)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    pub fn new(networks: Vec<IpNet>) -> AllowList {
        AllowList(networks)
    }

    pub fn admits(&self, peer: Peer) -> bool {
        match peer {
            Peer::Unix => true,
            Peer::Ip(_) if self.0.is_empty() => true,
            Peer::Ip(address) => {
                let ip = address.ip().to_canonical();
                self.0.iter().any(|network| network.contains(&ip))
            }
        }
    }
}

/// A connection's byte stream, whichever listener it came from.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

macro_rules! both {
    ($self:ident, $stream:ident => $call:expr) => {
        match $self.get_mut() {
            Stream::Tcp($stream) => $call,
            Stream::Unix($stream) => $call,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// A stream to move to another runtime (see [`super::threads`]): tokio
/// streams belong to the runtime they were registered on.
pub enum Detached {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
}

impl Stream {
    pub fn detach(self) -> io::Result<Detached> {
        match self {
            Stream::Tcp(s) => s.into_std().map(Detached::Tcp),
            Stream::Unix(s) => s.into_std().map(Detached::Unix),
        }
    }
}

impl Detached {
    /// Registers it on the current runtime.
    pub fn attach(self) -> io::Result<Stream> {
        match self {
            Detached::Tcp(s) => TcpStream::from_std(s).map(Stream::Tcp),
            Detached::Unix(s) => UnixStream::from_std(s).map(Stream::Unix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_are_host_port_or_an_absolute_unix_path() {
        assert_eq!(
            "127.0.0.1:6801".parse::<Address>(),
            Ok(Address::Tcp("127.0.0.1:6801".parse().unwrap()))
        );
        assert_eq!(
            "unix:/run/haul/haul.sock".parse::<Address>(),
            Ok(Address::Unix("/run/haul/haul.sock".into()))
        );
        let relative = "unix:haul.sock".parse::<Address>().unwrap_err();
        assert!(relative.contains("not absolute"), "{relative}");
        let neither = "localhost".parse::<Address>().unwrap_err();
        assert!(neither.contains("neither HOST:PORT"), "{neither}");
    }

    #[test]
    fn the_allow_list_admits_its_networks_mapped_addresses_and_unix_peers() {
        let list = AllowList::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        let peer = |ip: &str| Peer::Ip(SocketAddr::new(ip.parse().unwrap(), 1));
        assert!(list.admits(peer("10.1.2.3")));
        assert!(
            list.admits(peer("::ffff:10.1.2.3")),
            "IPv4 on a dual-stack socket"
        );
        assert!(list.admits(peer("::1")));
        assert!(!list.admits(peer("192.168.1.1")));
        assert!(!list.admits(peer("127.0.0.1")));
        assert!(list.admits(Peer::Unix));
        assert!(AllowList::default().admits(peer("192.168.1.1")));
    }
}
