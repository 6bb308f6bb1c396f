//! The device manual's table of common mail providers' SMTP servers, as data.
//!
//! Port 465 is SMTP over implicit TLS, port 587 is submission with STARTTLS (see
//! [`crate::Security`]). The table reflects the manual; providers change their rules, so a
//! device should still let the user edit the host and port.
//!
//! ```
//! use redy_smtps::providers::provider;
//!
//! let gmail = provider("gmail").unwrap();
//! assert_eq!(gmail.host, "smtp.gmail.com");
//! assert_eq!(gmail.implicit_tls_port, Some(465));
//! ```

/// One provider's SMTP submission server.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Provider {
    /// The provider's name, as the manual writes it.
    pub name: &'static str,
    /// The SMTP server's host name.
    pub host: &'static str,
    /// The SMTP-over-TLS port (implicit TLS), if offered: 465.
    pub implicit_tls_port: Option<u16>,
    /// The submission port with STARTTLS, if offered: 587.
    pub starttls_port: Option<u16>,
    /// What the account needs before a device can send (empty when nothing special).
    pub notes: &'static str,
}

const fn entry(
    name: &'static str,
    host: &'static str,
    implicit_tls_port: Option<u16>,
    starttls_port: Option<u16>,
    notes: &'static str,
) -> Provider {
    Provider {
        name,
        host,
        implicit_tls_port,
        starttls_port,
        notes,
    }
}

/// Every provider of the manual's table, in its order.
pub const PROVIDERS: &[Provider] = &[
    entry(
        "Orange",
        "smtp.orange.fr",
        Some(465),
        Some(587),
        "Works without two-factor authentication.",
    ),
    entry("SFR", "smtp.sfr.fr", Some(465), None, ""),
    entry(
        "Free",
        "smtp.free.fr",
        Some(465),
        Some(587),
        "Works without two-factor authentication.",
    ),
    entry("Bbox", "smtp.bbox.fr", Some(465), None, "Port 465 only."),
    entry(
        "Laposte",
        "smtp.laposte.net",
        Some(465),
        Some(587),
        "Laposte.net; works without two-factor authentication.",
    ),
    entry(
        "Yahoo",
        "smtp.mail.yahoo.fr",
        Some(465),
        None,
        "Port 465 only. Use an account key generated in the Yahoo account instead of the \
         mailbox password.",
    ),
    entry("Aruba", "smtp.aruba.it", Some(465), None, "Port 465 only."),
    entry(
        "GMX",
        "mail.gmx.com",
        Some(465),
        None,
        "Port 465 only. SMTP must first be enabled in the GMX account (it is off by default).",
    ),
    entry(
        "Outlook",
        "smtp-mail.outlook.com",
        None,
        Some(587),
        "Port 587 (STARTTLS) only; works without two-factor authentication.",
    ),
    entry(
        "Gmail",
        "smtp.gmail.com",
        Some(465),
        Some(587),
        "Needs two-factor authentication on the account and an app password, or OAuth2 \
         (XOAUTH2).",
    ),
    entry(
        "Mailo",
        "mail.mailo.com",
        Some(465),
        Some(587),
        "Works without two-factor authentication.",
    ),
];

/// The provider called `name`, ignoring ASCII case (`"gmail"`, `"GMX"`), or `None`.
pub fn provider(name: &str) -> Option<&'static Provider> {
    PROVIDERS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}
