//! The domain table: `GET /eshare/v1/status` (JSON) and `GET /` (a self-refreshing page).

use std::fmt::Write;

use serde::Serialize;

use super::node::Node;
use super::receiver::OriginState;
use super::{STATUS_PATH, VALUES_PATH, VERSION};

/// A node's status: the manual's domain table, and what it received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The protocol version, 1.
    pub eshare: u64,
    /// This site's WID.
    pub wid: String,
    /// The domain's HTTPS port.
    pub port: u16,
    /// This node's epoch.
    pub epoch: u64,
    /// Batches published in this epoch.
    pub published: u64,
    /// The sites, this one included, in the domain's order.
    pub sites: Vec<SiteStatus>,
    /// What was applied from each origin.
    pub origins: Vec<OriginState>,
}

/// One row of the domain table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteStatus {
    /// The site's WID.
    pub wid: String,
    /// Its label.
    pub label: String,
    /// Its software version.
    pub software: String,
    /// `address:port`.
    pub address: String,
    /// Whether this is the node's own site (no diffusion to itself).
    #[serde(rename = "self")]
    pub this: bool,
    /// Successful diffusions.
    pub successes: u64,
    /// Failed diffusions.
    pub failures: u64,
    /// Batches waiting for it.
    pub pending: usize,
    /// When the last diffusion ended, milliseconds since the Unix epoch.
    pub last_diffusion_ms: Option<u64>,
    /// The same, as `YYYY-MM-DD hh:mm:ss UTC`.
    pub last_diffusion: Option<String>,
    /// Why the last diffusion failed, `None` when it succeeded.
    pub last_error: Option<String>,
}

impl Node {
    /// The status, as `GET /eshare/v1/status` serves it.
    pub fn status(&self) -> Status {
        let sites = self
            .config
            .domain
            .sites()
            .iter()
            .zip(&self.links)
            .map(|(site, link)| {
                let last = link.counters.last.as_ref();
                SiteStatus {
                    wid: site.wid.to_string(),
                    label: site.label.clone(),
                    software: site.software.clone(),
                    address: site.authority(),
                    this: site.wid == self.config.wid,
                    successes: link.counters.successes,
                    failures: link.counters.failures,
                    pending: link.queue.len(),
                    last_diffusion_ms: last.map(|l| l.at.millis()),
                    last_diffusion: last.map(|l| l.at.to_string()),
                    last_error: last.and_then(|l| l.error.clone()),
                }
            })
            .collect();
        Status {
            eshare: VERSION,
            wid: self.config.wid.to_string(),
            port: self.config.domain.port(),
            epoch: self.config.epoch,
            published: self.next_seq.saturating_sub(1),
            sites,
            origins: self.receiver.states(),
        }
    }
}

impl Status {
    /// The HTML page of `GET /`: the manual's table (software, address, successes, failures,
    /// last diffusion), refreshed every `refresh_secs` seconds. Every text is escaped.
    pub fn html(&self, refresh_secs: u32) -> String {
        let mut page = String::with_capacity(2048);
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"{refresh_secs}\">\
             <title>eShare {wid}</title>\
             <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #999;padding:2px 8px}}.err{{color:#a00}}</style>\
             </head><body>\n<h1>eShare domain — site {wid}</h1>\n\
             <p>Port {port}, epoch {epoch}, {published} batch(es) published. \
             <a href=\"{STATUS_PATH}\">JSON</a> · <a href=\"{VALUES_PATH}\">values</a></p>\n\
             <table id=\"sites\"><tr><th>WID</th><th>Label</th><th>Software</th><th>Address</th>\
             <th>Successes</th><th>Failures</th><th>Pending</th><th>Last diffusion</th>\
             <th>Last error</th></tr>\n",
            wid = escape(&self.wid),
            port = self.port,
            epoch = self.epoch,
            published = self.published,
        );
        for s in &self.sites {
            let (successes, failures, pending) = match s.this {
                true => ("—".into(), "—".into(), "—".into()),
                false => (
                    s.successes.to_string(),
                    s.failures.to_string(),
                    s.pending.to_string(),
                ),
            };
            let label = match s.this {
                true => format!("{} (this site)", escape(&s.label)),
                false => escape(&s.label),
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{label}</td><td>{}</td><td>{}</td><td>{successes}</td>\
                 <td>{failures}</td><td>{pending}</td><td>{}</td><td class=\"err\">{}</td></tr>",
                escape(&s.wid),
                escape(&s.software),
                escape(&s.address),
                escape(s.last_diffusion.as_deref().unwrap_or("—")),
                escape(s.last_error.as_deref().unwrap_or("")),
            );
        }
        page.push_str("</table>\n</body></html>\n");
        page
    }
}

/// `text` with `& < > " '` replaced by entities: safe in HTML text and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
    }
}
