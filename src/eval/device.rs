//! Which burn backend runs the model: `flex` (pure-Rust CPU, always built) or libtorch through
//! burn-tch (the `tch` cargo feature; CPU, or CUDA where the libtorch has it).

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::error::{Error, Result};

/// A backend and device, as `--device` names them: `flex`, `tch` (libtorch CPU), `tch-cuda` or
/// `tch-cuda:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceSpec {
    Flex,
    TchCpu,
    TchCuda(usize),
}

impl DeviceSpec {
    /// Every device this build can test on without a GPU.
    pub fn cpu_devices() -> Vec<DeviceSpec> {
        let mut v = vec![DeviceSpec::Flex];
        if cfg!(feature = "tch") {
            v.push(DeviceSpec::TchCpu);
        }
        v
    }

    /// The burn device, or why this build or machine cannot make it.
    pub fn device(self) -> Result<Device> {
        let invalid = |message: String| Error::Invalid {
            fix: None,
            option: "device",
            message,
        };
        match self {
            DeviceSpec::Flex => Ok(Device::flex()),
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            // burn 0.22 marks burn-tch deprecated; it is the libtorch route here
            DeviceSpec::TchCpu => Ok(Device::libtorch()),
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            DeviceSpec::TchCuda(i) => {
                if tch::Cuda::is_available() && (i as i64) < tch::Cuda::device_count() {
                    Ok(Device::libtorch_cuda(i))
                } else {
                    Err(invalid(format!(
                        "{self} is not available: this libtorch sees {} CUDA device(s); use a CUDA build \
                         of torch 2.9.0 (LIBTORCH_USE_PYTORCH=1, see the README) on a machine with a GPU",
                        tch::Cuda::device_count()
                    )))
                }
            }
            #[cfg(not(feature = "tch"))]
            DeviceSpec::TchCpu | DeviceSpec::TchCuda(_) => Err(invalid(format!(
                "{self} needs libtorch, and this ceq was built without it; rebuild with \
                 `cargo build --release --features tch` (see the README's libtorch set-up)"
            ))),
        }
    }

    /// Words for outputs: which engine measured the numbers.
    pub fn describe(self) -> String {
        match self {
            DeviceSpec::Flex => "burn 0.22.1, flex backend (pure-Rust CPU)".into(),
            DeviceSpec::TchCpu => "burn 0.22.1, tch backend (libtorch 2.9.0, CPU)".into(),
            DeviceSpec::TchCuda(i) => {
                format!("burn 0.22.1, tch backend (libtorch 2.9.0, CUDA {i})")
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Flex => write!(f, "flex"),
            DeviceSpec::TchCpu => write!(f, "tch"),
            DeviceSpec::TchCuda(i) => write!(f, "tch-cuda:{i}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "flex" | "cpu" => Ok(DeviceSpec::Flex),
            "tch" | "tch-cpu" => Ok(DeviceSpec::TchCpu),
            "tch-cuda" => Ok(DeviceSpec::TchCuda(0)),
            _ => s
                .strip_prefix("tch-cuda:")
                .and_then(|i| i.parse().ok())
                .map(DeviceSpec::TchCuda)
                .ok_or_else(|| Error::Invalid {
                    fix: None,
                    option: "device",
                    message: format!("unknown device '{s}': use flex, tch, tch-cuda or tch-cuda:N"),
                }),
        }
    }
}
