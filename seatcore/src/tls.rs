//! What the driver does not read from a database URL: libpq's TLS modes, and the
//! `prefer-standby` value of `target_session_attrs`.
//!
//! The driver understands `sslmode=disable|prefer|require` only and rejects libpq's
//! `verify-ca`, `verify-full`, `sslrootcert`, `sslcert` and `sslkey`. So the URL is read here
//! first: those settings configure the TLS connector, and the driver sees `require`.
//!
//! | sslmode | encrypted | certificate chain checked | host name checked |
//! |---|---|---|---|
//! | `disable` | no | - | - |
//! | `prefer` (default), `require` | if the server offers it / always | only when `sslrootcert` is given | no |
//! | `verify-ca` | always | yes (`sslrootcert`, else the system's roots) | no |
//! | `verify-full` | always | yes (`sslrootcert`, else the system's roots) | yes |
//!
//! Several hosts (`postgres://h1:5432,h2:5433/db`, or `host=h1,h2 port=5432,5433`) pass
//! through to the driver as they are: it tries them in order. Of `target_session_attrs` it
//! knows `any`, `read-write` and `read-only`; libpq's `prefer-standby` (a standby if one
//! answers, else any host) is taken off here and carried out by the pool (see `pool`).

use std::fs;

use native_tls::{Certificate, Identity, TlsConnector};
use postgres_native_tls::MakeTlsConnector;

use crate::error::{Error, Result};

#[derive(Debug, Default, PartialEq, Eq)]
struct TlsSettings {
    verify_chain: bool,
    verify_host: bool,
    root_cert: Option<String>,
    client_cert: Option<String>,
    client_key: Option<String>,
}

/// Which server of a URL's hosts a session may use: libpq's `target_session_attrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionAttrs {
    /// The first host that answers.
    Any,
    /// The first host whose sessions may write (`transaction_read_only` is off).
    ReadWrite,
    /// The first host whose sessions are read-only (a hot standby).
    ReadOnly,
    /// The first read-only host; when none answers, the first host that answers.
    PreferStandby,
}

/// A database URL, read.
pub(crate) struct Target {
    /// What the driver understands of the URL (with `sslmode=require` for the verifying modes).
    pub(crate) config: postgres::Config,
    pub(crate) tls: MakeTlsConnector,
    /// `target_session_attrs`, when the URL gives one.
    pub(crate) session_attrs: Option<SessionAttrs>,
}

impl Target {
    /// How many servers the URL names.
    pub(crate) fn host_count(&self) -> usize {
        self.config.get_hosts().len().max(self.config.get_hostaddrs().len())
    }
}

/// A URL or TLS setting that cannot work: a configuration error, never retried.
fn bad(msg: String) -> Error {
    Error::Config(msg)
}

/// Splits libpq's TLS settings and a `prefer-standby` off `url`; returns what the driver may
/// see, the TLS settings, and the session attributes the URL asks for.
fn split(url: &str) -> (String, TlsSettings, Option<SessionAttrs>) {
    let mut tls = TlsSettings::default();
    let mut mode_verify = None;
    let mut attrs = None;
    let mut take = |key: &str, value: &str| -> Option<String> {
        match key {
            "sslmode" => match value {
                "verify-ca" => {
                    mode_verify = Some(false);
                    Some("require".into())
                }
                "verify-full" => {
                    mode_verify = Some(true);
                    Some("require".into())
                }
                other => Some(other.into()),
            },
            "sslrootcert" => {
                tls.root_cert = Some(value.into());
                None
            }
            "sslcert" => {
                tls.client_cert = Some(value.into());
                None
            }
            "sslkey" => {
                tls.client_key = Some(value.into());
                None
            }
            "target_session_attrs" => {
                let (given, driver) = match value {
                    "any" => (Some(SessionAttrs::Any), Some(value)),
                    "read-write" => (Some(SessionAttrs::ReadWrite), Some(value)),
                    "read-only" => (Some(SessionAttrs::ReadOnly), Some(value)),
                    "prefer-standby" => (Some(SessionAttrs::PreferStandby), None),
                    // the driver names what it does not know
                    other => (None, Some(other)),
                };
                attrs = given;
                driver.map(str::to_owned)
            }
            _ => Some(value.into()),
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // Only the query is rewritten: the authority, with its list of hosts, is the
        // driver's to read (a URL parser would refuse `h1:5432,h2:5433`). The query starts
        // at the first `?`, as for the driver.
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .filter_map(|(k, v)| take(&k, &v).map(|v| (k.into_owned(), v)))
            .collect();
        // The driver decodes %XX but not '+', so spaces (as in `options=-c x=y`) must be %20.
        const QUERY_VALUE: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        if query.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", query.join("&"))
        }
    } else {
        // key=value form; values with spaces must not be quoted for these keys
        url.split_whitespace()
            .filter_map(|kv| match kv.split_once('=') {
                Some((k, v)) => take(k, v).map(|v| format!("{k}={v}")),
                None => Some(kv.to_owned()),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match mode_verify {
        Some(host) => {
            tls.verify_chain = true;
            tls.verify_host = host;
        }
        None => tls.verify_chain = tls.root_cert.is_some(),
    }
    (rest, tls, attrs)
}

/// Reads a database URL: the driver's config, a TLS connector that honours `sslmode`,
/// `sslrootcert`, `sslcert` and `sslkey` as libpq does, and `target_session_attrs`.
pub(crate) fn configure(url: &str) -> Result<Target> {
    let (rest, tls, session_attrs) = split(url);
    let config: postgres::Config = rest.parse().map_err(|e: postgres::Error| {
        // The driver's message is generic ("invalid connection string"); its source says
        // what is wrong ("invalid value for option `sslmode`").
        let detail = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
        bad(format!("bad database URL: {e}{detail}"))
    })?;
    let mut builder = TlsConnector::builder();
    builder.danger_accept_invalid_certs(!tls.verify_chain).danger_accept_invalid_hostnames(!tls.verify_host);
    if let Some(path) = &tls.root_cert {
        let pem = fs::read(path).map_err(|e| bad(format!("reading sslrootcert {path}: {e}")))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| bad(format!("sslrootcert {path}: {e}")))?;
        builder.add_root_certificate(cert);
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &String| fs::read(p).map_err(|e| bad(format!("reading {p}: {e}")));
            let id = Identity::from_pkcs8(&read(cert)?, &read(key)?)
                .map_err(|e| bad(format!("sslcert/sslkey: {e}")))?;
            builder.identity(id);
        }
        (None, None) => {}
        _ => return Err(bad("sslcert and sslkey go together".into())),
    }
    let connector = builder.build().map_err(|e| bad(format!("TLS setup: {e}")))?;
    Ok(Target { config, tls: MakeTlsConnector::new(connector), session_attrs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_settings_are_split_off() {
        let (rest, tls, _) = split(
            "postgres://u@db.example:5432/x?sslmode=verify-full&sslrootcert=/ca.pem&application_name=a",
        );
        assert_eq!(rest, "postgres://u@db.example:5432/x?sslmode=require&application_name=a");
        assert!(tls.verify_chain && tls.verify_host);
        assert_eq!(tls.root_cert.as_deref(), Some("/ca.pem"));

        let (rest, tls, _) = split("host=h sslmode=verify-ca sslrootcert=/ca.pem dbname=x");
        assert_eq!(rest, "host=h sslmode=require dbname=x");
        assert!(tls.verify_chain && !tls.verify_host);

        let (rest, tls, _) = split("postgres://u@h/x");
        assert_eq!(rest, "postgres://u@h/x");
        let (rest, _, _) = split("postgres://u@h/x?options=-c%20search_path%3Dt1&sslmode=disable");
        assert_eq!(rest, "postgres://u@h/x?options=-c%20search_path%3Dt1&sslmode=disable");
        let config: postgres::Config = rest.parse().unwrap();
        assert_eq!(config.get_options(), Some("-c search_path=t1"));
        assert_eq!(tls, TlsSettings::default());

        // a root certificate alone turns on chain checks, as in libpq
        let (_, tls, _) = split("postgres://u@h/x?sslmode=require&sslrootcert=/ca.pem");
        assert!(tls.verify_chain && !tls.verify_host);
        assert!(configure("postgres://u@h/x?sslrootcert=/nonexistent.pem").is_err());
    }

    #[test]
    fn several_hosts_pass_through_and_prefer_standby_is_taken_off() {
        let url = "postgresql://app:pw@10.0.0.1:5432,db2.example:5433/seats?target_session_attrs=read-write&sslmode=verify-full&connect_timeout=2";
        let (rest, tls, attrs) = split(url);
        assert_eq!(
            rest,
            "postgresql://app:pw@10.0.0.1:5432,db2.example:5433/seats?target_session_attrs=read-write&sslmode=require&connect_timeout=2"
        );
        assert!(tls.verify_host);
        assert_eq!(attrs, Some(SessionAttrs::ReadWrite));
        let target = configure(url).unwrap();
        assert_eq!(target.host_count(), 2);
        assert_eq!(target.config.get_ports(), &[5432, 5433]);
        assert_eq!(target.config.get_connect_timeout(), Some(&std::time::Duration::from_secs(2)));
        assert_eq!(target.config.get_target_session_attrs(), postgres::config::TargetSessionAttrs::ReadWrite);

        // libpq's prefer-standby: the driver does not know it, the pool carries it out
        let (rest, _, attrs) = split("postgres://u@h1,h2/x?target_session_attrs=prefer-standby");
        assert_eq!(rest, "postgres://u@h1,h2/x");
        assert_eq!(attrs, Some(SessionAttrs::PreferStandby));
        let (rest, _, attrs) = split("host=h1,h2 port=1,2 target_session_attrs=prefer-standby dbname=x");
        assert_eq!(rest, "host=h1,h2 port=1,2 dbname=x");
        assert_eq!(attrs, Some(SessionAttrs::PreferStandby));
        assert_eq!(configure("host=h1,h2 port=1,2 dbname=x").unwrap().host_count(), 2);
        // not given; and a value nobody knows is the driver's to refuse, by name
        assert_eq!(split("postgres://u@h1,h2/x").2, None);
        let e = configure("postgres://u@h1,h2/x?target_session_attrs=primary").err().unwrap();
        assert!(e.to_string().contains("target_session_attrs"), "{e}");
    }
}
