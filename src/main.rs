use std::process::ExitCode;

fn main() -> ExitCode {
    match ceq::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One error chain, outermost first, like ripgrep.
            ceq::say!("ceq: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
