//! TLS to PostgreSQL, with libpq's `sslmode` meanings.
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

/// A URL or TLS setting that cannot work: a configuration error, never retried.
fn bad(msg: String) -> Error {
    Error::Config(msg)
}

/// Splits libpq's TLS settings off `url`; returns what the driver may see and the settings.
fn split(url: &str) -> Result<(String, TlsSettings)> {
    let mut tls = TlsSettings::default();
    let mut mode_verify = None;
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
            _ => Some(value.into()),
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut parsed = url::Url::parse(url).map_err(|e| bad(format!("bad database URL: {e}")))?;
        let pairs: Vec<(String, String)> =
            parsed.query_pairs().filter_map(|(k, v)| take(&k, &v).map(|v| (k.into_owned(), v))).collect();
        // The driver decodes %XX but not '+', so spaces (as in `options=-c x=y`) must be %20.
        const QUERY_VALUE: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        let query = query.join("&");
        parsed.set_query(if query.is_empty() { None } else { Some(&query) });
        parsed.to_string()
    } else {
        // key=value form; values with spaces must not be quoted for these TLS keys
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
    Ok((rest, tls))
}

/// Parses a database URL into the driver's config and a TLS connector that honours
/// `sslmode`, `sslrootcert`, `sslcert` and `sslkey` as libpq does.
pub(crate) fn configure(url: &str) -> Result<(postgres::Config, MakeTlsConnector)> {
    let (rest, tls) = split(url)?;
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
    Ok((config, MakeTlsConnector::new(connector)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_settings_are_split_off() {
        let (rest, tls) = split(
            "postgres://u@db.example:5432/x?sslmode=verify-full&sslrootcert=/ca.pem&application_name=a",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u@db.example:5432/x?sslmode=require&application_name=a");
        assert!(tls.verify_chain && tls.verify_host);
        assert_eq!(tls.root_cert.as_deref(), Some("/ca.pem"));

        let (rest, tls) = split("host=h sslmode=verify-ca sslrootcert=/ca.pem dbname=x").unwrap();
        assert_eq!(rest, "host=h sslmode=require dbname=x");
        assert!(tls.verify_chain && !tls.verify_host);

        let (rest, tls) = split("postgres://u@h/x").unwrap();
        assert_eq!(rest, "postgres://u@h/x");
        let (rest, _) = split("postgres://u@h/x?options=-c%20search_path%3Dt1&sslmode=disable").unwrap();
        assert_eq!(rest, "postgres://u@h/x?options=-c%20search_path%3Dt1&sslmode=disable");
        let config: postgres::Config = rest.parse().unwrap();
        assert_eq!(config.get_options(), Some("-c search_path=t1"));
        assert_eq!(tls, TlsSettings::default());

        // a root certificate alone turns on chain checks, as in libpq
        let (_, tls) = split("postgres://u@h/x?sslmode=require&sslrootcert=/ca.pem").unwrap();
        assert!(tls.verify_chain && !tls.verify_host);
        assert!(configure("postgres://u@h/x?sslrootcert=/nonexistent.pem").is_err());
    }
}
