//! Native HTTPS (`STIGMAN_API_TLS_CERT_FILE` and `STIGMAN_API_TLS_KEY_FILE`) on rustls with the
//! ring provider. A key encrypted as PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`) is decrypted with
//! `STIGMAN_API_TLS_KEY_PASSPHRASE` when the server starts; the clear key stays in memory only.

use std::io;
use std::path::Path;

use axum_server::tls_rustls::RustlsConfig;
use pkcs8::der::pem::LineEnding;
use pkcs8::EncryptedPrivateKeyInfo;

const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// Reads the PEM certificate chain and private key, decrypting the key with `passphrase` when
/// it is encrypted; the error names the files and what is wrong.
pub async fn load(cert: &Path, key: &Path, passphrase: Option<&str>) -> io::Result<RustlsConfig> {
    let named = |err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("loading TLS certificate {} and key {}: {err}", cert.display(), key.display()),
        )
    };
    let cert_pem = tokio::fs::read(cert).await.map_err(named)?;
    let key_pem = tokio::fs::read(key).await.map_err(named)?;
    let key_pem = clear_key(&key_pem, passphrase).map_err(named)?;
    RustlsConfig::from_pem(cert_pem, key_pem).await.map_err(named)
}

/// The key as unencrypted PEM: an encrypted PKCS#8 key is decrypted, any other key is
/// returned as it is (and refused when a passphrase was given for it).
fn clear_key(pem: &[u8], passphrase: Option<&str>) -> io::Result<Vec<u8>> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidData, message);
    let text = std::str::from_utf8(pem).map_err(|_| invalid("the key file is not PEM".into()))?;
    let encrypted = text.contains(&format!("-----BEGIN {ENCRYPTED_LABEL}-----"));
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(invalid(
            "legacy OpenSSL key encryption is not supported; convert the key with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                .into(),
        ));
    }
    match (encrypted, passphrase) {
        (false, None) => Ok(pem.to_vec()),
        (false, Some(_)) => Err(invalid(
            "STIGMAN_API_TLS_KEY_PASSPHRASE is set but the key is not encrypted".into(),
        )),
        (true, None) => {
            Err(invalid("the key is encrypted: set STIGMAN_API_TLS_KEY_PASSPHRASE".into()))
        }
        (true, Some(passphrase)) => decrypt(text, passphrase).map_err(invalid),
    }
}

fn decrypt(text: &str, passphrase: &str) -> Result<Vec<u8>, String> {
    let (label, der) = pkcs8::Document::from_pem(text.trim())
        .map_err(|e| format!("the encrypted key is not valid PEM: {e}"))?;
    if label != ENCRYPTED_LABEL {
        return Err(format!("expected an {ENCRYPTED_LABEL}, found {label}"));
    }
    let info = EncryptedPrivateKeyInfo::try_from(der.as_bytes())
        .map_err(|e| format!("the encrypted key is not PKCS#8: {e}"))?;
    let clear = info.decrypt(passphrase).map_err(|e| {
        format!("the key could not be decrypted (wrong STIGMAN_API_TLS_KEY_PASSPHRASE?): {e}")
    })?;
    let pem = clear
        .to_pem("PRIVATE KEY", LineEnding::LF)
        .map_err(|e| format!("re-encoding the decrypted key: {e}"))?;
    Ok(pem.as_bytes().to_vec())
}
