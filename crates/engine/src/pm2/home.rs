//! Where a PM2 daemon keeps its sockets: `$PM2_HOME` (default `~/.pm2`), as PM2's paths.js does.
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Linux `sun_path` is 108 bytes including the terminating NUL.
pub const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HomeError {
    #[error(
        "socket path {path} is {len} bytes, over the unix limit of {MAX_SOCKET_PATH}; \
         PM2 would silently truncate it (use a shorter PM2_HOME)"
    )]
    SocketPathTooLong { path: PathBuf, len: usize },
    #[error("cannot find PM2_HOME: neither PM2_HOME nor HOME is set")]
    NoHome,
}

/// A PM2 home directory and the socket paths derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pm2Home {
    dir: PathBuf,
    rpc: PathBuf,
    publ: PathBuf,
}

fn checked(path: PathBuf) -> Result<PathBuf, HomeError> {
    let len = path.as_os_str().as_bytes().len();
    if len > MAX_SOCKET_PATH {
        return Err(HomeError::SocketPathTooLong { path, len });
    }
    Ok(path)
}

impl Pm2Home {
    /// A home at `dir` with the default socket names.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, HomeError> {
        let dir = dir.into();
        Ok(Self {
            rpc: checked(dir.join("rpc.sock"))?,
            publ: checked(dir.join("pub.sock"))?,
            dir,
        })
    }

    /// From the process environment: `PM2_HOME`, else `$HOME/.pm2`; honours
    /// `PM2_DAEMON_RPC_PORT` / `PM2_DAEMON_PUB_PORT` socket overrides like PM2 does.
    pub fn from_env() -> Result<Self, HomeError> {
        Self::from_vars(|k| std::env::var_os(k))
    }

    /// Same as [`Pm2Home::from_env`] with an injectable lookup (pure, for tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<OsString>) -> Result<Self, HomeError> {
        let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
        let dir = match nonempty("PM2_HOME") {
            Some(h) => PathBuf::from(h),
            None => PathBuf::from(nonempty("HOME").ok_or(HomeError::NoHome)?).join(".pm2"),
        };
        let rpc = nonempty("PM2_DAEMON_RPC_PORT")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("rpc.sock"));
        let publ = nonempty("PM2_DAEMON_PUB_PORT")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("pub.sock"));
        Ok(Self {
            rpc: checked(rpc)?,
            publ: checked(publ)?,
            dir,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn rpc_socket(&self) -> &Path {
        &self.rpc
    }
    pub fn pub_socket(&self) -> &Path {
        &self.publ
    }
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("pm2.pid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn resolves_home_like_pm2() {
        let h = Pm2Home::from_vars(vars(&[("HOME", "/home/deploy")])).unwrap();
        assert_eq!(h.rpc_socket(), Path::new("/home/deploy/.pm2/rpc.sock"));
        assert_eq!(h.pid_file(), PathBuf::from("/home/deploy/.pm2/pm2.pid"));
        let h = Pm2Home::from_vars(vars(&[("HOME", "/h"), ("PM2_HOME", "/srv/pm2")])).unwrap();
        assert_eq!(h.pub_socket(), Path::new("/srv/pm2/pub.sock"));
        let h = Pm2Home::from_vars(vars(&[
            ("PM2_HOME", "/p"),
            ("PM2_DAEMON_RPC_PORT", "/r.sock"),
        ]))
        .unwrap();
        assert_eq!(h.rpc_socket(), Path::new("/r.sock"));
        assert_eq!(Pm2Home::from_vars(vars(&[])), Err(HomeError::NoHome));
    }

    #[test]
    fn too_long_socket_path_is_a_clear_error() {
        let long = format!("/tmp/{}", "x".repeat(100));
        let e = Pm2Home::new(&long).unwrap_err();
        assert!(matches!(e, HomeError::SocketPathTooLong { len: 114, .. }));
        assert!(e.to_string().contains("over the unix limit of 107"), "{e}");
        // exactly 107 bytes is fine
        let ok = format!("/{}", "y".repeat(107 - "/".len() - "/rpc.sock".len()));
        assert_eq!(
            Pm2Home::new(&ok).unwrap().rpc_socket().as_os_str().len(),
            107
        );
    }
}
