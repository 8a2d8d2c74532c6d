//! Sharded sweeps and replications (`--shard K/N --out`, `--plan`, `eventflow merge`) through the
//! real binary, and the cluster recipes of `docs/cluster.md` run in their local form.
//!
//! The recipes need GNU parallel, `kubernetes-validate` and `check-jsonschema`; a test whose
//! tool is missing says SKIPPED on stderr and passes, unless `EVENTFLOW_RECIPE_TOOLS=required`
//! (as `.ci/run` sets after installing them), when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{eventflow, stderr, stdout};

/// A bundled scenario: Poisson arrivals at 1,000/s into one queue and 15 handlers.
fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/capacity-planning.json")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn code(o: &Output) -> i32 {
    o.status
        .code()
        .expect("exited normally, not by a signal (a panic would abort here)")
}

/// Runs eventflow and insists on exit 0.
fn ok(args: &[&str]) -> String {
    let o = eventflow(args, "");
    assert_eq!(code(&o), 0, "eventflow {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Runs eventflow and insists on exit 2 with every `needles` in the message.
fn refused(args: &[&str], needles: &[&str]) {
    let o = eventflow(args, "");
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "eventflow {args:?} should exit 2: {err}");
    for n in needles {
        assert!(err.contains(n), "eventflow {args:?}: `{n}` not in: {err}");
    }
}

/// `args` then `extra`, as one list.
fn with<'a>(args: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(extra).copied().collect()
}

fn part_path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().expect("a UTF-8 path").to_owned()
}

/// Writes shard `k` of `n` of the command `args` to `dir/name`.
fn shard(args: &[&str], k: usize, n: usize, dir: &Path, name: &str) -> String {
    let out = part_path(dir, name);
    let spec = format!("{k}/{n}");
    ok(&with(args, &["--shard", &spec, "--out", &out]));
    out
}

fn runs_in(part: &str) -> usize {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(part).unwrap()).unwrap();
    v["runs"].as_array().unwrap().len()
}

#[test]
fn three_shards_merged_print_the_unsharded_sweep_byte_for_byte() {
    let s = scenario();
    let s = s.to_str().unwrap();
    // 3 variants × 3 replications = 9 runs; --duration keeps each run short.
    let args = [
        "sweep",
        s,
        "--set",
        "consumers.handlers.concurrency=11,13,15",
        "--replications",
        "3",
        "--duration",
        "60s",
        "--seed",
        "7",
    ];
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<String> = (1..=3)
        .map(|k| shard(&args, k, 3, dir.path(), &format!("part-{k}.json")))
        .collect();
    assert_eq!(
        parts.iter().map(|p| runs_in(p)).collect::<Vec<_>>(),
        [3, 3, 3]
    );
    // Any order of parts on the command line.
    let given = [parts[2].as_str(), parts[0].as_str(), parts[1].as_str()];
    for format in [None, Some("--json"), Some("--csv")] {
        let flags: Vec<&str> = format.into_iter().collect();
        let whole = ok(&with(&args, &flags));
        let merged = ok(&with(&with(&["merge"], &given), &flags));
        assert!(!whole.is_empty());
        assert_eq!(
            merged, whole,
            "merge {format:?} differs from the unsharded sweep"
        );
    }
}

#[test]
fn sharded_replications_and_a_whole_part_merge_to_the_unsharded_run() {
    let s = scenario();
    let s = s.to_str().unwrap();
    let args = ["run", s, "--replications", "5", "--duration", "60s"];
    let dir = tempfile::tempdir().unwrap();
    let two: Vec<String> = (1..=2)
        .map(|k| shard(&args, k, 2, dir.path(), &format!("r-{k}.json")))
        .collect();
    // --out alone is the whole grid, shard 1/1.
    let whole_part = part_path(dir.path(), "whole.json");
    ok(&with(&args, &["--out", &whole_part]));
    assert_eq!(runs_in(&whole_part), 5);
    for flags in [&[][..], &["--json"][..]] {
        let unsharded = ok(&with(&args, flags));
        let merged = ok(&with(&["merge", &two[1], &two[0]], flags));
        assert_eq!(merged, unsharded);
        assert_eq!(ok(&with(&["merge", &whole_part], flags)), unsharded);
    }
    refused(
        &["merge", &two[0], &two[1], "--csv"],
        &["--csv", "run --replications"],
    );
}

#[test]
fn shard_sizes_differ_by_at_most_one() {
    let s = scenario();
    let s = s.to_str().unwrap();
    // 3 variants × 7 replications = 21 runs.
    let args = [
        "sweep",
        s,
        "--set",
        "consumers.handlers.concurrency=12,14,16",
        "--replications",
        "7",
    ];
    for n in [1usize, 2, 4, 5, 8, 21] {
        let spec = format!("1/{n}");
        let plan: serde_json::Value =
            serde_json::from_str(&ok(&with(&args, &["--shard", &spec, "--plan", "--json"])))
                .unwrap();
        assert_eq!(plan["runs"], 21);
        assert_eq!(plan["replications"], 7);
        assert_eq!(plan["variants"].as_array().unwrap().len(), 3);
        let sizes: Vec<u64> = plan["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["runs"].as_u64().unwrap())
            .collect();
        assert_eq!(sizes.len(), n);
        assert_eq!(sizes.iter().sum::<u64>(), 21);
        let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(hi - lo <= 1, "{n} shards: {sizes:?}");
    }
    let table = ok(&with(&args, &["--shard", "3/4", "--plan"]));
    assert!(table.contains("3 variants × 7 replications"), "{table}");
    assert!(table.contains("21 runs in 4 shards"), "{table}");
    for (k, size) in [(1, 6), (2, 5), (3, 5), (4, 5)] {
        assert!(
            table.lines().any(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                cells == [format!("{k}/4").as_str(), size.to_string().as_str()]
            }),
            "shard {k}/4 of {size} runs is not in: {table}"
        );
    }
    // The parts hold what the plan says: 2 variants × 3 replications over 4 shards.
    let small = [
        "sweep",
        s,
        "--set",
        "consumers.handlers.concurrency=12,15",
        "--replications",
        "3",
        "--duration",
        "60s",
    ];
    let dir = tempfile::tempdir().unwrap();
    let sizes: Vec<usize> = (1..=4)
        .map(|k| runs_in(&shard(&small, k, 4, dir.path(), &format!("p{k}.json"))))
        .collect();
    assert_eq!(sizes, [2, 2, 1, 1]);
}

#[test]
fn bad_shard_flags_exit_2_naming_the_flag() {
    let s = scenario();
    let s = s.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = part_path(dir.path(), "p.json");
    let sweep = [
        "sweep",
        s,
        "--set",
        "consumers.handlers.concurrency=12,15",
        "--replications",
        "2",
    ];
    for (spec, needle) in [
        ("0/3", "K must be between 1 and 3"),
        ("4/3", "K must be between 1 and 3"),
        ("a/b", "expected K/N"),
        ("3", "expected K/N"),
        ("1/0", "at least 1"),
        ("1/5", "only 4 runs"),
    ] {
        refused(
            &with(&sweep, &["--shard", spec, "--out", &out]),
            &[&format!("--shard {spec}"), needle],
        );
    }
    refused(&with(&sweep, &["--shard", "1/2"]), &["needs --out"]);
    refused(
        &with(&sweep, &["--shard", "1/2", "--out", &out, "--json"]),
        &["--json", "eventflow merge"],
    );
    refused(
        &["run", s, "--shard", "1/2", "--out", &out],
        &["--replications"],
    );
    refused(
        &[
            "run",
            s,
            "--replications",
            "2",
            "--shard",
            "2/1",
            "--out",
            &out,
        ],
        &["--shard 2/1"],
    );
    assert!(!Path::new(&out).exists(), "a refused command wrote a part");
}

#[test]
fn merge_refuses_parts_that_do_not_belong_together() {
    let s = scenario();
    let s = s.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "sweep",
        s,
        "--set",
        "consumers.handlers.concurrency=12,15",
        "--replications",
        "2",
        "--duration",
        "60s",
    ];
    let p1 = shard(&args, 1, 2, d, "p1.json");
    let p2 = shard(&args, 2, 2, d, "p2.json");
    ok(&["merge", &p1, &p2]);

    // The same scenario under another name and layout of its text is the same scenario.
    let text = std::fs::read_to_string(s).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let same = d.join("copy.json");
    std::fs::write(&same, serde_json::to_string(&value).unwrap()).unwrap();
    let mut copy_args = args;
    copy_args[1] = same.to_str().unwrap();
    let c2 = shard(&copy_args, 2, 2, d, "copy-2.json");
    ok(&["merge", &p1, &c2]);

    // A different scenario.
    let other = d.join("other.json");
    std::fs::write(&other, text.replacen("\"rate\": 1000", "\"rate\": 900", 1)).unwrap();
    let mut other_args = args;
    other_args[1] = other.to_str().unwrap();
    let o2 = shard(&other_args, 2, 2, d, "other-2.json");
    refused(
        &["merge", &p1, &o2],
        &["different scenario", "other-2.json", "p1.json"],
    );

    // Different settings.
    let settings: [(&str, Vec<&str>, &str); 4] = [
        ("seed", with(&args, &["--seed", "99"]), "different seed"),
        (
            "replications",
            {
                let mut a = args.to_vec();
                a[5] = "3";
                a
            },
            "different replications",
        ),
        (
            "set",
            {
                let mut a = args.to_vec();
                a[3] = "consumers.handlers.concurrency=12,16";
                a
            },
            "different --set",
        ),
        (
            "duration",
            {
                let mut a = args.to_vec();
                a[7] = "90s";
                a
            },
            "different duration",
        ),
    ];
    for (name, a, needle) in settings {
        let p = shard(&a, 2, 2, d, &format!("{name}-2.json"));
        refused(&["merge", &p1, &p], &[needle, &format!("{name}-2.json")]);
    }

    // A different shard count; a missing shard; a duplicate one.
    let n3 = shard(&args, 2, 3, d, "n3-2.json");
    refused(
        &["merge", &p1, &n3],
        &["different shard count", "N = 3", "N = 2"],
    );
    refused(&["merge", &p1], &["missing shard 2 of 2"]);
    let dup = part_path(d, "p1-again.json");
    std::fs::copy(&p1, &dup).unwrap();
    refused(
        &["merge", &p1, &p2, &dup],
        &["shard 1/2 appears twice", "p1.json", "p1-again.json"],
    );

    // A different command.
    let r = shard(
        &["run", s, "--replications", "2", "--duration", "60s"],
        2,
        2,
        d,
        "run-2.json",
    );
    refused(&["merge", &p1, &r], &["different command", "run-2.json"]);

    // A different eventflow version: between parts, and of all parts against this binary.
    let edit = |from: &str, name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
        f(&mut v);
        let path = part_path(d, name);
        std::fs::write(&path, v.to_string()).unwrap();
        path
    };
    let old = |v: &mut serde_json::Value| v["eventflow"] = "0.0.9".into();
    let v2 = edit(&p2, "old-2.json", &old);
    refused(
        &["merge", &p1, &v2],
        &["different eventflow version", "0.0.9"],
    );
    let v1 = edit(&p1, "old-1.json", &old);
    refused(&["merge", &v1, &v2], &["made by eventflow 0.0.9"]);

    // Malformed parts: never a panic, always the file and what is wrong.
    let truncated = part_path(d, "truncated.json");
    let full = std::fs::read_to_string(&p2).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    refused(
        &["merge", &p1, &truncated],
        &["truncated.json", "invalid JSON"],
    );
    let bad_type = edit(&p2, "bad-type.json", &|v| {
        v["settings"]["seed"] = "seven".into();
    });
    refused(
        &["merge", &p1, &bad_type],
        &["bad-type.json", "`settings.seed`"],
    );
    let short = edit(&p2, "short.json", &|v| {
        v["runs"].as_array_mut().unwrap().pop();
    });
    refused(&["merge", &p1, &short], &["short.json", "should hold runs"]);
    refused(
        &["merge", &p1, s],
        &["capacity-planning.json", "is a scenario"],
    );
    let empty = part_path(d, "empty.json");
    std::fs::write(&empty, "").unwrap();
    refused(&["merge", &empty], &["empty.json", "invalid JSON"]);
    let missing = part_path(d, "nowhere.json");
    refused(&["merge", &p1, &missing], &["nowhere.json", "no such file"]);
}

// ---------------------------------------------------------------------------------------------
// The recipes of docs/cluster.md, in their local form.

/// Whether `program args…` runs; if not, skips (or fails when the tools are required).
fn have(program: &str, args: &[&str], what: &str) -> bool {
    let found = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("EVENTFLOW_RECIPE_TOOLS").as_deref() != Ok("required"),
            "{what} is required (EVENTFLOW_RECIPE_TOOLS=required) but `{program}` is not available"
        );
        eprintln!("SKIPPED: {what}: `{program}` is not available (install it to run this test)");
    }
    found
}

/// A recipe file, checked to appear verbatim in docs/cluster.md (the doc shows what is tested).
fn recipe(name: &str) -> String {
    let text = std::fs::read_to_string(repo(&format!("docs/cluster/{name}"))).unwrap();
    let doc = std::fs::read_to_string(repo("docs/cluster.md")).unwrap();
    assert!(
        doc.contains(&text),
        "docs/cluster.md does not show docs/cluster/{name} verbatim"
    );
    text
}

/// PATH with the eventflow under test first.
fn path_with_eventflow() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_eventflow"))
        .parent()
        .unwrap()
        .to_owned();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

/// The study the recipe tests run: 2 variants × 3 replications, short runs, over 3 shards.
const FLAGS: &str = "--set consumers.handlers.concurrency=12,15 --replications 3 --duration 60s";

fn unsharded(format: &[&str]) -> String {
    let s = scenario();
    let mut args = vec!["sweep", s.to_str().unwrap()];
    args.extend(FLAGS.split(' '));
    args.extend(format);
    ok(&args)
}

/// Runs a shell script with the recipe's variables set for the test study.
fn shell(program: &str, script: &str, dir: &Path, env: &[(&str, &str)]) -> Output {
    let s = scenario();
    let o = Command::new(program)
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path_with_eventflow())
        .env("SCENARIO", s.to_str().unwrap())
        .env("FLAGS", FLAGS)
        .env("SHARDS", "3")
        .env("OUT", dir.join("parts"))
        .envs(env.iter().copied())
        .output()
        .expect("the shell runs");
    assert!(
        o.status.success(),
        "{program} -c {script}\nexited {:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    o
}

#[test]
fn gnu_parallel_recipe_reproduces_the_unsharded_sweep() {
    let script = recipe("parallel.sh");
    if !have("parallel", &["--version"], "the GNU parallel recipe") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = shell("bash", &script, dir.path(), &[]);
    assert_eq!(stdout(&o), unsharded(&[]));
    assert_eq!(
        std::fs::read_dir(dir.path().join("parts")).unwrap().count(),
        3,
        "one part per shard"
    );
}

#[test]
fn slurm_recipe_reproduces_the_unsharded_sweep_task_by_task() {
    let script = recipe("slurm-sweep.sh");
    let dir = tempfile::tempdir().unwrap();
    for k in ["1", "2", "3"] {
        shell(
            "bash",
            &script,
            dir.path(),
            &[("SLURM_ARRAY_TASK_ID", k), ("SLURM_CPUS_PER_TASK", "1")],
        );
    }
    let parts = dir.path().join("parts");
    let merged = ok(&[
        "merge",
        &part_path(&parts, "part-1.json"),
        &part_path(&parts, "part-2.json"),
        &part_path(&parts, "part-3.json"),
        "--csv",
    ]);
    assert_eq!(merged, unsharded(&["--csv"]));
}

/// The text of the `- |` block under `args:` in a manifest (the container's shell script).
fn container_script(manifest: &str) -> String {
    let lines: Vec<&str> = manifest.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "args:")
        .expect("the manifest has container args");
    let dash = lines[start + 1];
    assert_eq!(dash.trim(), "- |", "args is one literal block");
    let body: Vec<&str> = lines[start + 2..]
        .iter()
        .take_while(|l| l.len() - l.trim_start().len() > dash.len() - dash.trim_start().len())
        .copied()
        .collect();
    let indent = body[0].len() - body[0].trim_start().len();
    body.iter()
        .map(|l| format!("{}\n", &l[indent.min(l.len())..]))
        .collect()
}

#[test]
fn kubernetes_recipe_runs_index_by_index_and_merges() {
    let job = recipe("k8s-indexed-job.yaml");
    let merge_job = recipe("k8s-merge-job.yaml");
    let dir = tempfile::tempdir().unwrap();
    let shard_script = container_script(&job);
    assert!(shard_script.contains("JOB_COMPLETION_INDEX"));
    // Kubernetes numbers completions from 0.
    for index in ["0", "1", "2"] {
        shell(
            "sh",
            &shard_script,
            dir.path(),
            &[("JOB_COMPLETION_INDEX", index), ("RAYON_NUM_THREADS", "1")],
        );
    }
    let parts = dir.path().join("parts");
    let merge_script =
        container_script(&merge_job).replace("/parts/", &format!("{}/", parts.display()));
    let o = shell("sh", &merge_script, dir.path(), &[]);
    assert_eq!(stdout(&o), unsharded(&["--csv"]));
}

#[test]
fn kubernetes_manifests_pass_the_schema_check() {
    let files = ["k8s-indexed-job.yaml", "k8s-merge-job.yaml"];
    for f in files {
        recipe(f);
    }
    if !have(
        "python3",
        &["-m", "kubernetes_validate", "--version"],
        "the Kubernetes schema check",
    ) {
        return;
    }
    // 1.29 is the first release with backoffLimitPerIndex; the package's newest is checked too.
    for version in [None, Some("1.29.0")] {
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "kubernetes_validate", "--strict"]);
        if let Some(v) = version {
            cmd.args(["-k", v]);
        }
        let o = cmd
            .args(files.map(|f| repo(&format!("docs/cluster/{f}"))))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "kubernetes-validate {version:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
}

/// The `run:` of the step called `name` in a workflow.
fn step_run(workflow: &str, name: &str) -> String {
    let lines: Vec<&str> = workflow.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no step `{name}`"));
    lines[at + 1]
        .trim()
        .strip_prefix("run: ")
        .unwrap_or_else(|| panic!("step `{name}` has no one-line run"))
        .to_owned()
}

#[test]
fn ci_matrix_recipe_runs_cell_by_cell_and_merges() {
    let workflow = recipe("github-actions-sweep.yml");
    let dir = tempfile::tempdir().unwrap();
    let run_shard = step_run(&workflow, "Run one shard");
    for k in ["1", "2", "3"] {
        let script = run_shard
            .replace("${{ matrix.shard }}", k)
            .replace("${{ strategy.job-total }}", "3");
        shell("bash", &script, dir.path(), &[]);
    }
    shell("bash", &step_run(&workflow, "Merge"), dir.path(), &[]);
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    assert_eq!(csv, unsharded(&["--csv"]));
    if have(
        "python3",
        &["-m", "check_jsonschema", "--version"],
        "the GitHub Actions schema check",
    ) {
        let o = Command::new("python3")
            .args([
                "-m",
                "check_jsonschema",
                "--builtin-schema",
                "vendor.github-workflows",
            ])
            .arg(repo("docs/cluster/github-actions-sweep.yml"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    }
}
