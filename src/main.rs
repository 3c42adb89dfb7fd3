//! `viopay-check`: the command line. Exit codes: 0 conformant, 1 a REQUIRED rule failed or a
//! scenario could not run, 2 usage or profile error, 3 target unreachable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use viopay_check::{CheckOptions, RunOptions, TargetSpec, catalogue::Catalogue, features, report, rules_doc};

/// mimalloc: `load` and `fuzz` allocate a request's and an answer's small buffers many thousand
/// times a second, and glibc's malloc and free were a quarter of `load`'s CPU in a profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "viopay-check", version, about = "Conformance harness for the VioPay POS device activation API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Certify a target (default: the embedded simulator).
    Run(RunArgs),
    /// Stateful property testing: random operation sequences checked against the harness's own
    /// model of the rules, shrunk to the shortest failing one.
    Fuzz(FuzzArgs),
    /// What changed between two deployments, rule by rule: the scenario suite and the same seeded
    /// fuzz sequences against both, answers compared after normalisation, noise learned from a
    /// second copy of the baseline. Exit 0 when nothing differs beyond --accept, 1 otherwise.
    Diff(DiffArgs),
    /// A fleet of terminals activating at once: the journey as firmware walks it, merchants
    /// claiming after a think time, every answer judged, latency from the intended send time,
    /// objectives (--slo) as the gate. Exit 0 when every objective held and no rule broke.
    Load(LoadArgs),
    /// The rule catalogue with level and the scenarios covering each rule.
    Rules {
        /// Read features from this directory instead of the built-in ones.
        #[arg(long)]
        features: Option<PathBuf>,
        /// Print the rules document (RULES.md) instead of the plain list.
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// The API to certify.
    #[arg(long, value_enum, default_value = "viopay")]
    api: Api,
    /// A running viopay-sim; the harness provisions through /_sim/ and moves its clock.
    #[arg(long, conflicts_with = "profile")]
    target: Option<String>,
    /// A real deployment described by a profile (TOML).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Cucumber tag expression, e.g. '@CLAIM-16 or @PAIR-04', or '@slow' on a real-clock target.
    #[arg(long)]
    tags: Option<String>,
    /// Differences on SIMULATOR rules fail the run.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    reports: Reports,
    /// Rule IDs of known deviations (one per line, # comments): reported, not failing.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// How many scenarios run at once (default 64).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Stop at the first failing scenario.
    #[arg(long)]
    fail_fast: bool,
    /// Read features from this directory instead of the built-in ones.
    #[arg(long)]
    features: Option<PathBuf>,
    #[command(flatten)]
    conn: Connection,
}

/// Which API a command certifies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum Api {
    /// VioPay's POS activation API (rules.toml's VioPay rules).
    #[default]
    Viopay,
    /// Kustom's In-Person Payments enrollment API, `/ipp/v1` (the K… rules).
    Kustom,
}

#[derive(clap::Args)]
struct FuzzArgs {
    /// The API to certify.
    #[arg(long, value_enum, default_value = "viopay")]
    api: Api,
    /// A running viopay-sim (default: the embedded simulator).
    #[arg(long, conflicts_with = "profile")]
    target: Option<String>,
    /// A real deployment described by a profile (each case consumes --devices devices of its pools).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Number of random sequences.
    #[arg(long, default_value_t = 100)]
    cases: u32,
    /// Longest sequence.
    #[arg(long, default_value_t = 40)]
    max_steps: usize,
    /// Seed of the generator: the same seed against the same target replays the same run.
    #[arg(long)]
    seed: Option<u64>,
    /// Devices per case.
    #[arg(long, default_value_t = 4)]
    devices: usize,
    /// Merchants (at least 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(2..=26))]
    merchants: u64,
    /// Differences on SIMULATOR rules fail the run.
    #[arg(long)]
    strict: bool,
    /// Rule IDs of known deviations (one per line, # comments): reported, not failing.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// File where failing seeds are kept and replayed first ("none" to turn off).
    #[arg(long, default_value = "viopay-fuzz.proptest-regressions")]
    persist: String,
    #[command(flatten)]
    conn: Connection,
    /// Cases at once where cases cannot disturb one another: a target whose clock the harness
    /// does not move (VioPay: each case on devices of its own) and, for Kustom, that is not
    /// reset between cases (each case judges the records it made). Default 8 there; always 1
    /// on a clock the harness moves or a target reset before each case, which every case shares.
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    reports: Reports,
}

#[derive(clap::Args)]
struct DiffArgs {
    /// The API both deployments serve.
    #[arg(long, value_enum, default_value = "viopay")]
    api: Api,
    /// The deployment answers are compared against: a simulator's URL, a profile (.toml) or
    /// `embedded`.
    #[arg(long, value_name = "TARGET")]
    baseline: String,
    /// The deployment under review (same forms as --baseline).
    #[arg(long, value_name = "TARGET")]
    candidate: String,
    /// A second copy of the baseline: fields that differ between the two copies are noise.
    #[arg(long, value_name = "TARGET", conflicts_with = "noise_pass")]
    baseline2: Option<String>,
    /// Learn noise from a second pass against the baseline itself.
    #[arg(long)]
    noise_pass: bool,
    /// Rule IDs of intended changes: their differences are reported, not failing (repeat or
    /// separate with commas).
    #[arg(long, value_delimiter = ',')]
    accept: Vec<String>,
    /// Fields never compared, e.g. `body.error.message` or `header:retry-after` (a prefix covers
    /// what is under it).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Fuzz sequences run on both (0: scenarios only).
    #[arg(long, default_value_t = 200)]
    cases: u32,
    /// Longest fuzz sequence.
    #[arg(long, default_value_t = 40)]
    max_steps: usize,
    /// Seed of the fuzz sequences (default: drawn and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// VioPay: devices per fuzz case.
    #[arg(long, default_value_t = 4)]
    devices: usize,
    /// Leave the scenario suite out (fuzz sequences only).
    #[arg(long)]
    no_scenarios: bool,
    /// Cucumber tag expression selecting scenarios.
    #[arg(long)]
    tags: Option<String>,
    /// Read features from this directory instead of the built-in ones.
    #[arg(long)]
    features: Option<PathBuf>,
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    reports: Reports,
}

#[derive(clap::Args)]
struct LoadArgs {
    /// A running viopay-sim (default: the embedded simulator, on the system clock).
    #[arg(long, conflicts_with = "profile")]
    target: Option<String>,
    /// A real deployment described by a profile (its device pools give the terminals).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Terminals in the fleet.
    #[arg(long, default_value_t = 100)]
    terminals: usize,
    /// How they arrive: a rate (`50/s`) or a ramp over a time (`30s`; `0s`: all at once).
    #[arg(long, default_value = "10s")]
    arrival: String,
    /// The run stops at this time at the latest (`90s`, `10m`); default: once every terminal
    /// meant to be claimed is claimed.
    #[arg(long)]
    duration: Option<String>,
    /// Seconds between a terminal's status polls, drawn uniformly (the docs: 3–5 s).
    #[arg(long, default_value = "3s..5s")]
    poll: String,
    /// Seconds from a code's issue to its merchant's claim, drawn uniformly.
    #[arg(long, default_value = "10s..90s")]
    claim_after: String,
    /// Share of terminals whose code nobody claims (0–1).
    #[arg(long, default_value_t = 0.05)]
    never_claim: f64,
    /// Share of claims sent twice at once, a double click (0–1); exactly one must win (CLAIM-21).
    #[arg(long, default_value_t = 0.2)]
    double_claim: f64,
    /// Which steps each terminal walks: `1-4` (to claimed) or `1-8` (on to activated, as the
    /// terminal: its identity key and ZMK from the simulator or the profile).
    #[arg(long, default_value = "1-8")]
    steps: String,
    /// `journey`; `claim-burst`: every merchant claims at the same second; `attest-storm`: every
    /// activated terminal attests again at the same second.
    #[arg(long, default_value = "journey")]
    scenario: String,
    /// Merchants the fleet belongs to (2–26).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(2..=26))]
    merchants: u64,
    /// An objective, e.g. 'status.p99<200ms', 'journey.p95<120s', 'errors<0.1%', 'rps>=500' (repeat).
    #[arg(long)]
    slo: Vec<String>,
    /// Seed of the workload's draws (think times, jitter, double claims).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Differences on SIMULATOR rules fail the run.
    #[arg(long)]
    strict: bool,
    /// Rule IDs of known deviations (one per line, # comments): reported, not failing.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Requests in flight at most: the sockets the fleet shares (a request waiting for one counts
    /// the wait in its latency).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds between progress lines (0: none).
    #[arg(long, default_value_t = 5.0)]
    progress: f64,
    #[command(flatten)]
    conn: Connection,
    #[command(flatten)]
    reports: Reports,
    /// Instead of running, write the same fleet as a runnable Locust project into DIR (`locust`
    /// is the one format), for Locust's distributed engine past one machine.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "DIR"])]
    export: Vec<String>,
}

fn load(args: LoadArgs) -> i32 {
    use viopay_check::load::{Arrival, LoadOptions, Scenario, Workload, parse_range, parse_seconds};
    let prepared = (|| -> anyhow::Result<(TargetSpec, LoadOptions)> {
        let spec = match (&args.target, &args.profile) {
            (Some(url), _) => TargetSpec::Simulator(url.clone()),
            (None, Some(path)) => TargetSpec::Profile(path.clone()),
            (None, None) => TargetSpec::Embedded,
        };
        let arrival: Arrival = args.arrival.parse().map_err(anyhow::Error::msg)?;
        let range =
            |flag: &str, v: &str| parse_range(v).ok_or_else(|| anyhow::anyhow!("{flag} `{v}`: give seconds or a range such as 10s..90s"));
        let share = |flag: &str, v: f64| {
            if (0.0..=1.0).contains(&v) { Ok(v) } else { Err(anyhow::anyhow!("{flag} {v}: a share between 0 and 1")) }
        };
        let duration = match &args.duration {
            Some(d) => Some(Duration::from_secs_f64(parse_seconds(d).ok_or_else(|| anyhow::anyhow!("--duration `{d}`: e.g. 90s or 10m"))?)),
            None => None,
        };
        let scenario = match args.scenario.as_str() {
            "journey" => Scenario::Journey,
            "claim-burst" => Scenario::ClaimBurst,
            "attest-storm" if args.steps == "1-8" => Scenario::AttestStorm,
            "attest-storm" => anyhow::bail!("--scenario attest-storm needs --steps 1-8 (terminals attest after activating)"),
            other => anyhow::bail!("--scenario `{other}`: journey, claim-burst or attest-storm"),
        };
        let slos = args.slo.iter().map(|s| s.parse()).collect::<Result<Vec<viopay_check::load::Slo>, _>>()?;
        if args.terminals == 0 {
            anyhow::bail!("--terminals must be at least 1");
        }
        let check = CheckOptions {
            strict: args.strict,
            baseline: read_baseline(args.baseline.as_deref())?,
            request_timeout: Duration::from_secs(args.conn.timeout.max(1)),
            probe_timeout: seconds(args.conn.probe_timeout),
            control_token: args.conn.control_token.clone(),
            ..Default::default()
        };
        let opts = LoadOptions {
            terminals: args.terminals,
            arrival,
            duration,
            workload: Workload {
                poll: range("--poll", &args.poll)?,
                claim_after: range("--claim-after", &args.claim_after)?,
                never_claim: share("--never-claim", args.never_claim)?,
                double_claim: share("--double-claim", args.double_claim)?,
                burst_at: None,
                storm_at: None,
                activate: match args.steps.as_str() {
                    "1-8" => true,
                    "1-4" => false,
                    other => anyhow::bail!("--steps `{other}`: 1-4 or 1-8"),
                },
            },
            scenario,
            merchants: usize::try_from(args.merchants).unwrap_or(4),
            slos,
            seed: args.seed,
            connections: args.connections.max(1),
            check,
        };
        Ok((spec, opts))
    })();
    let (spec, opts) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("viopay-check: {e:#}");
            return 2;
        }
    };
    if let [format, dir] = args.export.as_slice() {
        if format != "locust" {
            eprintln!("viopay-check: --export `{format}`: the one format is locust");
            return 2;
        }
        return match viopay_check::load::export::locust(&spec, &opts.workload, std::path::Path::new(dir)) {
            Ok(files) => {
                for f in files {
                    println!("wrote {}", f.display());
                }
                println!(
                    "run it: cd {dir} && pip install -r requirements.txt && locust -f locustfile.py --headless -u 100 -r 10 -t 2m --csv out"
                );
                0
            }
            Err(e) => {
                eprintln!("viopay-check: {e}");
                2
            }
        };
    }
    let Some(runtime) = runtime() else { return 1 };
    let every = (args.progress > 0.0).then(|| seconds(args.progress));
    let report = match runtime.block_on(viopay_check::load::load(&spec, &opts, every, |line| println!("{line}"))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("viopay-check: {e}");
            return e.exit_code();
        }
    };
    print!("{}", report.render());
    args.reports.write(report.exit_code(), || report.to_junit(), || report.to_json(), || report.to_html())
}

/// A deployment named on the command line: `embedded`, a profile file, or a simulator's URL.
fn target_of(flag: &str, value: &str) -> anyhow::Result<TargetSpec> {
    if value == "embedded" {
        return Ok(TargetSpec::Embedded);
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        return Ok(TargetSpec::Simulator(value.to_owned()));
    }
    let path = PathBuf::from(value);
    if value.ends_with(".toml") || path.is_file() {
        return Ok(TargetSpec::Profile(path));
    }
    anyhow::bail!("{flag} `{value}` is neither `embedded`, an http(s):// URL nor a profile file")
}

fn diff(args: DiffArgs) -> i32 {
    let prepared = (|| -> anyhow::Result<(viopay_check::diff::DiffTargets, viopay_check::diff::DiffOptions)> {
        let baseline = target_of("--baseline", &args.baseline)?;
        let candidate = target_of("--candidate", &args.candidate)?;
        let baseline2 = match (&args.baseline2, args.noise_pass) {
            (Some(b2), _) => Some(target_of("--baseline2", b2)?),
            (None, true) => Some(baseline.clone()),
            (None, false) => None,
        };
        let catalogue = Catalogue::builtin();
        for rule in &args.accept {
            catalogue.id(rule).map_err(|e| anyhow::anyhow!("--accept: {e}"))?;
        }
        let check = CheckOptions {
            run: RunOptions { tags: args.tags.clone(), ..Default::default() },
            features: load_features(args.features.as_deref(), args.api)?,
            request_timeout: Duration::from_secs(args.conn.timeout.max(1)),
            probe_timeout: seconds(args.conn.probe_timeout),
            control_token: args.conn.control_token.clone(),
            ..Default::default()
        };
        let opts = viopay_check::diff::DiffOptions {
            api: match args.api {
                Api::Viopay => viopay_check::catalogue::Api::Viopay,
                Api::Kustom => viopay_check::catalogue::Api::Kustom,
            },
            check,
            scenarios: !args.no_scenarios,
            cases: args.cases,
            max_steps: args.max_steps,
            seed: args.seed.unwrap_or_else(rand_seed),
            devices: args.devices,
            merchants: 2,
            accept: args.accept.iter().cloned().collect(),
            ignore: args.ignore.clone(),
        };
        Ok((viopay_check::diff::DiffTargets { baseline, candidate, baseline2 }, opts))
    })();
    let (targets, opts) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("viopay-check: {e:#}");
            return 2;
        }
    };
    let Some(runtime) = runtime() else { return 1 };
    let report = match viopay_check::diff::diff(runtime.handle(), &targets, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("viopay-check: {e}");
            return e.exit_code();
        }
    };
    print!("{}", report.render());
    args.reports.write(report.exit_code(), || report.to_junit(), || report.to_json(), || report.to_html())
}

/// A seed for a run that names none (printed in the report, so the run can be replayed).
fn rand_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
}

/// A positive number of seconds (a flag such as `--probe-timeout 0.5`).
fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(if value.is_finite() && value > 0.0 { value } else { 0.001 })
}

/// How a command reaches its target: its bounds, and a simulator's control token.
#[derive(clap::Args, Default)]
struct Connection {
    /// Seconds any single request may take.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Seconds the reachability probe waits before giving up (exit 3).
    #[arg(long, default_value_t = 8.0)]
    probe_timeout: f64,
    /// The control token of a simulator started with --control-token (sent on /_sim/ requests only).
    #[arg(long, env = "VIOPAY_SIM_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
}

/// The report files every command can write besides what it prints.
#[derive(clap::Args, Default)]
struct Reports {
    /// Write a JUnit XML report here (a test case per rule, difference group or objective).
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
}

/// A report's text, built only when its file is asked for.
type Lazy<'a> = Box<dyn FnOnce() -> String + 'a>;

impl Reports {
    /// Writes the files asked for (each built only if asked); returns `exit`, or 2 when one cannot
    /// be written.
    fn write<'a>(
        &self,
        exit: i32,
        junit: impl FnOnce() -> String + 'a,
        json: impl FnOnce() -> serde_json::Value + 'a,
        html: impl FnOnce() -> String + 'a,
    ) -> i32 {
        let files: [(&str, &Option<PathBuf>, Lazy<'a>); 3] = [
            ("--junit", &self.junit, Box::new(junit)),
            ("--json", &self.json, Box::new(move || serde_json::to_string_pretty(&json()).unwrap_or_default())),
            ("--html", &self.html, Box::new(html)),
        ];
        let mut code = exit;
        for (flag, path, text) in files {
            if let Some(path) = path
                && !write_report(flag, path, &text())
            {
                code = 2;
            }
        }
        code
    }
}

/// Writes a report file; a file that cannot be written is a usage error (exit 2).
fn write_report(flag: &str, path: &std::path::Path, text: &str) -> bool {
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("viopay-check: cannot write {flag} {}: {e}", path.display());
            false
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_init();
    let code = match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Rules { features, markdown } => rules(features.as_deref(), markdown),
        Command::Run(args) => run(args),
        Command::Fuzz(args) => fuzz(args),
        Command::Diff(args) => diff(args),
        Command::Load(args) => load(args),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Logs go to stderr, off unless `RUST_LOG` asks (stdout carries the report).
fn tracing_init() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,viopay_sim::verdict=off".into()))
        .with_writer(std::io::stderr)
        .init();
}

/// Every feature, both APIs' (for `rules`).
fn load_all_features(dir: Option<&std::path::Path>) -> anyhow::Result<Vec<features::FeatureFile>> {
    Ok(match dir {
        Some(dir) => features::from_dir(dir)?,
        None => features::builtin().into_iter().chain(features::kustom()).collect(),
    })
}

fn load_features(dir: Option<&std::path::Path>, api: Api) -> anyhow::Result<Vec<features::FeatureFile>> {
    Ok(match (dir, api) {
        (Some(dir), _) => features::from_dir(dir)?,
        (None, Api::Viopay) => features::builtin(),
        (None, Api::Kustom) => features::kustom(),
    })
}

fn run(args: RunArgs) -> i32 {
    let prepared = (|| -> anyhow::Result<(TargetSpec, CheckOptions)> {
        let spec = match (&args.target, &args.profile) {
            (Some(url), _) => TargetSpec::Simulator(url.clone()),
            (None, Some(path)) => TargetSpec::Profile(path.clone()),
            (None, None) => TargetSpec::Embedded,
        };
        let baseline = read_baseline(args.baseline.as_deref())?;
        let opts = CheckOptions {
            run: RunOptions { tags: args.tags.clone(), concurrency: args.concurrency, fail_fast: args.fail_fast },
            strict: args.strict,
            baseline,
            features: load_features(args.features.as_deref(), args.api)?,
            request_timeout: Duration::from_secs(args.conn.timeout.max(1)),
            probe_timeout: seconds(args.conn.probe_timeout),
            control_token: args.conn.control_token.clone(),
            tape: false,
        };
        Ok((spec, opts))
    })();
    let (spec, opts) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("viopay-check: {e:#}");
            return 2;
        }
    };
    let Some(runtime) = runtime() else { return 1 };
    let progress = |r: &viopay_check::ScenarioResult| println!("{}", report::progress_line(r));
    let report = match args.api {
        Api::Viopay => runtime.block_on(viopay_check::certify(&spec, &opts, progress)),
        Api::Kustom => runtime.block_on(viopay_check::kustom::certify(&spec, &opts, progress)),
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("viopay-check: {e}");
            return e.exit_code();
        }
    };
    print!("{}", report::summary(&report));
    args.reports.write(report.exit_code, || report::to_junit(&report), || report::to_json(&report), || report::to_html(&report))
}

/// A `--baseline` file's rule IDs (none without the option).
fn read_baseline(path: Option<&std::path::Path>) -> anyhow::Result<std::collections::BTreeSet<String>> {
    Ok(match path {
        Some(path) => {
            report::parse_baseline(&std::fs::read_to_string(path).with_context(|| format!("cannot read --baseline {}", path.display()))?)
        }
        None => Default::default(),
    })
}

fn fuzz(args: FuzzArgs) -> i32 {
    let spec = match (&args.target, &args.profile) {
        (Some(url), _) => TargetSpec::Simulator(url.clone()),
        (None, Some(path)) => TargetSpec::Profile(path.clone()),
        (None, None) => TargetSpec::Embedded,
    };
    let baseline = match read_baseline(args.baseline.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("viopay-check: {e:#}");
            return 2;
        }
    };
    if args.api == Api::Kustom {
        return fuzz_kustom(&args, &spec, baseline);
    }
    let opts = viopay_check::fuzz::FuzzOptions {
        cases: args.cases,
        max_steps: args.max_steps,
        seed: args.seed,
        devices: args.devices,
        merchants: usize::try_from(args.merchants).unwrap_or(2),
        strict: args.strict,
        baseline,
        persist: (args.persist != "none").then(|| PathBuf::from(&args.persist)),
        request_timeout: Duration::from_secs(args.conn.timeout.max(1)),
        probe_timeout: seconds(args.conn.probe_timeout),
        jobs: args.jobs,
        control_token: args.conn.control_token.clone(),
    };
    let Some(runtime) = runtime() else { return 1 };
    match viopay_check::fuzz::fuzz(runtime.handle(), &spec, &opts) {
        Ok(report) => {
            print!("{}", report.render());
            args.reports.write(report.exit_code(), || report.to_junit(), || report.to_json(), || report.to_html())
        }
        Err(e) => {
            eprintln!("viopay-check: {e}");
            e.exit_code()
        }
    }
}

/// The async runtime of a command; `None` (said on stderr) when it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("viopay-check: cannot start the async runtime: {e}");
            None
        }
    }
}

fn fuzz_kustom(args: &FuzzArgs, spec: &TargetSpec, baseline: std::collections::BTreeSet<String>) -> i32 {
    let opts = viopay_check::kustom::KustomFuzzOptions {
        cases: args.cases,
        max_steps: args.max_steps,
        seed: args.seed,
        strict: args.strict,
        baseline,
        request_timeout: Duration::from_secs(args.conn.timeout.max(1)),
        jobs: args.jobs,
        control_token: args.conn.control_token.clone(),
    };
    let Some(runtime) = runtime() else { return 1 };
    match viopay_check::kustom::fuzz(runtime.handle(), spec, &opts) {
        Ok(report) => {
            print!("{}", report.render());
            args.reports.write(report.exit_code(), || report.to_junit(), || report.to_json(), || report.to_html())
        }
        Err(e) => {
            eprintln!("viopay-check: {e}");
            e.exit_code()
        }
    }
}

fn rules(dir: Option<&std::path::Path>, markdown: bool) -> i32 {
    let covering = match load_all_features(dir).and_then(|files| Ok(rules_doc::covering(&files)?)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("viopay-check: {e:#}");
            return 2;
        }
    };
    let catalogue = Catalogue::builtin();
    if markdown {
        print!("{}", rules_doc::markdown(&catalogue, &covering));
        return 0;
    }
    for rule in catalogue.iter() {
        let why = rules_doc::unchecked_reason(rule.level, rule.release).map(|w| format!(" ({w})")).unwrap_or_default();
        println!("{:<10} {:<9} {}{why}", rule.id, rule.level.as_str(), rule.statement);
        for s in covering.get(&rule.id).into_iter().flatten() {
            println!("{:<21}- {s}", "");
        }
    }
    0
}
