//! `redy-cert`: make, inspect and import device certificates.
//!
//! ```text
//! redy-cert generate --wid 12345-67890 --name 192.168.1.137 --name redy.local --out DIR
//! redy-cert show FILE          # details of every certificate in a PEM or DER file
//! redy-cert pin FILE           # SPKI SHA-256 pins (curl's --pinnedpubkey form)
//! redy-cert import-p12 FILE [--password P] [--out DIR]
//! ```
//! `generate` keeps an existing `REDY-<WID>-CA.crt`/`.key` in DIR and only reissues
//! `ServerREDY.pem`. The PKCS#12 password may also come from `REDY_P12_PASSWORD`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;
use std::{env, fs};

use redy_certs::{CertStore, Certificate, DeviceCa, SERVER_FILE_NAME, SubjectName, Wid, parse_pem};

const USAGE: &str = "usage:
  redy-cert generate --wid WID --name NAME [--name NAME ...] --out DIR
  redy-cert show FILE
  redy-cert pin FILE
  redy-cert import-p12 FILE [--password PASSWORD] [--out DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redy-cert: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(args: &[String]) -> Result<()> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let opts = Options::parse(rest)?;
    match command.as_str() {
        "generate" => generate(&opts),
        "show" => show(&opts),
        "pin" => pin(&opts),
        "import-p12" => import_p12(&opts),
        _ => Err(USAGE.into()),
    }
}

#[derive(Default)]
struct Options {
    positional: Vec<String>,
    wid: Option<String>,
    names: Vec<String>,
    out: Option<PathBuf>,
    password: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Self::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--wid" => opts.wid = Some(value()?),
                "--name" => opts.names.push(value()?),
                "--out" => opts.out = Some(value()?.into()),
                "--password" => opts.password = Some(value()?),
                flag if flag.starts_with("--") => {
                    return Err(format!("unknown option {flag}\n{USAGE}").into());
                }
                file => opts.positional.push(file.to_owned()),
            }
        }
        Ok(opts)
    }

    fn file(&self) -> Result<&str> {
        match self.positional.as_slice() {
            [file] => Ok(file),
            _ => Err(USAGE.into()),
        }
    }
}

fn generate(opts: &Options) -> Result<()> {
    let wid: Wid = opts.wid.as_deref().ok_or("generate needs --wid")?.parse()?;
    let names = opts
        .names
        .iter()
        .map(|n| n.parse())
        .collect::<std::result::Result<Vec<SubjectName>, _>>()?;
    let out = opts.out.as_deref().ok_or("generate needs --out DIR")?;
    fs::create_dir_all(out)?;
    let now = SystemTime::now();
    let ca_path = out.join(format!("REDY-{wid}-CA.crt"));
    let key_path = out.join(format!("REDY-{wid}-CA.key"));
    let ca = if ca_path.exists() && key_path.exists() {
        let cert = Certificate::from_pem(&fs::read(&ca_path)?)?;
        let key = parse_pem(&fs::read(&key_path)?)?
            .keys
            .into_iter()
            .next()
            .ok_or("no key in the CA key file")?;
        println!("keeping CA      {}", ca_path.display());
        DeviceCa::from_parts(cert, key)?
    } else {
        let ca = DeviceCa::generate(&wid, now)?;
        fs::write(&ca_path, ca.certificate().to_pem())?;
        write_secret(&key_path, &ca.key().to_pem())?;
        println!(
            "created CA      {}  (export this one to other devices and servers)",
            ca_path.display()
        );
        println!(
            "created CA key  {}  (keep it on this device)",
            key_path.display()
        );
        ca
    };
    let server = ca.issue_server_certificate(&names, now)?;
    let server_path = out.join(SERVER_FILE_NAME);
    write_secret(&server_path, &server.to_pem())?;
    println!(
        "created server  {}  (certificate + CA + private key)",
        server_path.display()
    );
    print!("\n{}", server.certificate().details());
    Ok(())
}

fn certificates(path: &str) -> Result<Vec<Certificate>> {
    let bytes = fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    match parse_pem(&bytes) {
        Ok(items) if !items.certificates.is_empty() => Ok(items.certificates),
        Ok(_) => Err(format!("{path}: no certificate in this file").into()),
        Err(redy_certs::Error::NoPem) => Ok(vec![Certificate::from_der(bytes)?]),
        Err(e) => Err(format!("{path}: {e}").into()),
    }
}

fn show(opts: &Options) -> Result<()> {
    for cert in certificates(opts.file()?)? {
        println!("{}", cert.details());
    }
    Ok(())
}

fn pin(opts: &Options) -> Result<()> {
    for cert in certificates(opts.file()?)? {
        println!("{}  {}", cert.spki_pin(), cert.details().subject);
    }
    Ok(())
}

fn import_p12(opts: &Options) -> Result<()> {
    let path = opts.file()?;
    let password = opts
        .password
        .clone()
        .or_else(|| env::var("REDY_P12_PASSWORD").ok())
        .unwrap_or_default();
    let mut store = CertStore::new();
    let bytes = fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let entry = store.import_pkcs12("imported", &bytes, &password)?;
    println!(
        "{path}: {} certificate(s), {}",
        entry.certificates().len(),
        match entry.key() {
            Some(_) => "with the private key of the first",
            None => "no private key",
        }
    );
    for cert in entry.certificates() {
        println!("\n{}", cert.details());
    }
    if let Some(out) = &opts.out {
        fs::create_dir_all(out)?;
        let stem = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("imported");
        let pem_path = out.join(format!("{stem}.pem"));
        match entry.key() {
            Some(_) => write_secret(&pem_path, &store.export_pem_with_key("imported")?)?,
            None => fs::write(&pem_path, store.export_pem("imported")?)?,
        }
        println!("wrote {}", pem_path.display());
    }
    Ok(())
}

/// Writes a file only its owner can read (it holds a private key).
fn write_secret(path: &Path, contents: &str) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, contents.as_bytes())?;
    Ok(())
}
