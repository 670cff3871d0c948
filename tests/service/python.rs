//! A Python gRPC client, as many integrators will use one: grpcio in a virtual environment
//! under `target/`, built on first use from `tests/python/requirements.txt` (PyPI), with
//! stubs generated from `proto/` by grpc_tools. And, the same way, an S3-compatible server
//! (moto, from `tests/python/s3-requirements.txt`) for documents kept in an object store.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Python {
    interpreter: PathBuf,
    stubs: PathBuf,
    scripts: PathBuf,
}

impl Python {
    /// A command running `tests/python/<name>` with the stubs importable.
    pub fn script(&self, name: &str) -> Command {
        let mut command = Command::new(&self.interpreter);
        command
            .arg(self.scripts.join(name))
            .env("PYTHONPATH", &self.stubs);
        command
    }
}

/// The client, set up once per test process.
pub fn client() -> &'static Python {
    static CLIENT: OnceLock<Python> = OnceLock::new();
    CLIENT.get_or_init(|| set_up().unwrap_or_else(|e| panic!("Python client: {e:#}")))
}

/// The `moto_server` program, installed once per test process.
pub fn moto_server() -> &'static Path {
    static SERVER: OnceLock<PathBuf> = OnceLock::new();
    SERVER.get_or_init(|| {
        venv("test-s3", "tests/python/s3-requirements.txt")
            .map(|venv| venv.join("bin/moto_server"))
            .unwrap_or_else(|e| panic!("moto: {e:#}"))
    })
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
}

/// A virtual environment `name` under `target/` with `requirements` installed (again only
/// when they change).
fn venv(name: &str, requirements: &str) -> anyhow::Result<PathBuf> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let venv = target.join(name);
    let requirements = root().join(requirements);
    let wanted = std::fs::read_to_string(&requirements)?;
    let stamp = venv.join("installed-requirements.txt");
    let interpreter = venv.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(&interpreter)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements))?;
        std::fs::write(&stamp, &wanted)?;
    }
    Ok(venv)
}

fn set_up() -> anyhow::Result<Python> {
    let root = root();
    let venv = venv("test-python", "tests/python/requirements.txt")?;
    let interpreter = venv.join("bin/python");
    let stubs = venv.join("stubs");
    std::fs::create_dir_all(&stubs)?;
    let protos: Vec<PathBuf> = ["common", "registry", "screening", "cases", "lawenforcement"]
        .iter()
        .map(|name| root.join(format!("proto/assay/{name}/v1/{name}.proto")))
        .collect();
    run(Command::new(&interpreter)
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(root.join("proto"))
        .arg(format!("--python_out={}", stubs.display()))
        .arg(format!("--grpc_python_out={}", stubs.display()))
        .args(&protos))?;
    Ok(Python {
        interpreter,
        stubs,
        scripts: root.join("tests/python"),
    })
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let out = command.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
