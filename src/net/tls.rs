//! TLS client configuration (rustls): the system's roots or `--ca-file`, and `--insecure`.

use std::sync::Arc;

use tokio_rustls::rustls;

/// Largest CA file read (bytes): a bundle of every public root is about 200 KiB.
pub const MAX_CA_FILE: u64 = 4 * 1024 * 1024;

/// TLS settings (`--ca-file`, `--insecure`).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Trusted CAs: the file named and its PEM contents; the system's roots when `None`.
    pub ca: Option<(std::path::PathBuf, Vec<u8>)>,
    /// Skip certificate verification (the user said `--insecure`).
    pub insecure: bool,
}

impl TlsOptions {
    /// Settings with the CA file at `ca_file` read now, before any traffic.
    ///
    /// # Errors
    /// The file cannot be read, is larger than [`MAX_CA_FILE`], or holds no certificate.
    pub fn new(ca_file: Option<&std::path::Path>, insecure: bool) -> Result<TlsOptions, String> {
        let ca = match ca_file {
            None => None,
            Some(path) => {
                use std::io::Read;
                let mut pem = Vec::new();
                std::fs::File::open(path)
                    .and_then(|f| f.take(MAX_CA_FILE + 1).read_to_end(&mut pem))
                    .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
                if pem.len() as u64 > MAX_CA_FILE {
                    return Err(format!(
                        "the CA file {} is larger than {} MiB",
                        path.display(),
                        MAX_CA_FILE >> 20
                    ));
                }
                let opts = TlsOptions {
                    ca: Some((path.to_path_buf(), pem)),
                    insecure: false,
                };
                client_config(&opts)?;
                opts.ca
            }
        };
        Ok(TlsOptions { ca, insecure })
    }
}

/// The rustls client configuration for `opts`.
///
/// # Errors
/// An unreadable or empty CA file, no trusted roots at all.
pub fn client_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if opts.insecure {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match &opts.ca {
        Some((path, pem)) => {
            use rustls_pki_types::pem::PemObject;
            for c in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
                let c = c.map_err(|e| format!("bad PEM in {}: {e}", path.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    if roots.is_empty() {
        return Err("no trusted CA certificates (use --ca-file)".into());
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Accepts any certificate: only with `--insecure`. Signatures are still checked so the
/// handshake itself is sound.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
