//! The demo's eShare step: three sites on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (one port,
//! mutual TLS, a generated device CA each) on a tokio runtime; one publishes, the others apply,
//! and the publisher's domain table shows the diffusions.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use redy_eshare::share::{Event, NamedValue, Timestamp, Value};
use redy_examples::eshare::{LocalDomain, RunningNode, free_port};
use tokio::sync::mpsc;

use crate::Result;

const SITES: [(&str, &str); 3] = [
    ("11111-22222", "127.0.0.1"),
    ("33333-44444", "127.0.0.2"),
    ("55555-66666", "127.0.0.3"),
];

/// Runs the eShare step of the demo.
pub fn run() -> Result<()> {
    println!("\neShare: a domain of three sites on 127.0.0.1/.2/.3, mutual TLS, one HTTPS port");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(diffuse())
}

async fn diffuse() -> Result<()> {
    let ips = SITES
        .iter()
        .map(|(_, ip)| ip.parse())
        .collect::<std::result::Result<Vec<IpAddr>, _>>()?;
    let port = free_port(&ips)?;
    let sites: Vec<(&str, IpAddr)> = SITES.iter().map(|(w, _)| *w).zip(ips).collect();
    let local = LocalDomain::generate(&sites, port)?;
    let mut nodes = Vec::new();
    for i in 0..sites.len() {
        let options = local.options(i, 1, true).ok_or("no such site")?;
        nodes.push(RunningNode::start(options).await?);
    }
    let now = Timestamp::from_system(SystemTime::now());
    let values = vec![
        NamedValue::new("tank.level", Value::Float(3.25), now),
        NamedValue::new("pump.running", Value::Bool(true), now),
    ];
    let seq = nodes[0].0.publish(values)?;
    println!("  11111-22222 published seq {seq}: tank.level=3.25 pump.running=true");
    for (i, (_, events)) in nodes.iter_mut().enumerate().skip(1) {
        let line = applied(events).await?;
        println!("  {} {line}", SITES[i].0);
    }
    // The publisher learns of each success as its answer comes back.
    let (publisher, events) = &mut nodes[0];
    let mut confirmed = 0;
    while confirmed < 2 {
        if let Some(Event::DeliverySucceeded { .. }) = next(events).await? {
            confirmed += 1;
        }
    }
    println!(
        "  11111-22222's domain table (served at https://127.0.0.1:{port}/ and /eshare/v1/status):"
    );
    for site in publisher.with_node(|n| n.status()).sites {
        if !site.this {
            println!(
                "    {} at {}: {} success(es), {} failure(s), last diffusion {}",
                site.wid,
                site.address,
                site.successes,
                site.failures,
                site.last_diffusion.as_deref().unwrap_or("never")
            );
        }
    }
    Ok(())
}

/// Waits for the batch applied at a site; describes it.
async fn applied(events: &mut mpsc::Receiver<Event>) -> Result<String> {
    loop {
        if let Some(Event::BatchApplied {
            origin,
            seq,
            values,
            ..
        }) = next(events).await?
        {
            let values: Vec<String> = values
                .iter()
                .map(|v| format!("{}={}", v.name, v.value))
                .collect();
            return Ok(format!("applied {origin} seq {seq}: {}", values.join(" ")));
        }
    }
}

async fn next(events: &mut mpsc::Receiver<Event>) -> Result<Option<Event>> {
    match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
        Ok(Some(event)) => Ok(Some(event)),
        Ok(None) => Err("the node stopped".into()),
        Err(_) => Err("no eShare event within 10 s".into()),
    }
}
