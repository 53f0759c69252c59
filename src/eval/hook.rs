//! Hook points, named as TransformerLens names them: `blocks.{l}.hook_resid_pre` and friends.

use std::fmt;

use crate::error::{Error, Result};

/// Where in a block the activation is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The residual stream entering the block.
    ResidPre,
    /// After attention is added, before the MLP (sequential blocks: all but parallel GPT-NeoX).
    ResidMid,
    /// The residual stream leaving the block.
    ResidPost,
    /// The attention sublayer's output (after its output projection; Gemma 2: after the
    /// post-attention norm), before it is added.
    AttnOut,
    /// The MLP sublayer's output (Gemma 2: after the post-feedforward norm), before it is added.
    MlpOut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hook {
    pub layer: usize,
    pub site: Site,
}

impl Hook {
    /// Parses a TransformerLens hook name.
    pub fn parse(name: &str) -> Result<Hook> {
        let bad = || Error::Invalid {
            fix: None,
            option: "hook",
            message: format!(
                "unknown hook '{name}': expected blocks.<layer>.hook_resid_pre, hook_resid_mid, \
                 hook_resid_post, hook_attn_out or hook_mlp_out"
            ),
        };
        let rest = name.strip_prefix("blocks.").ok_or_else(bad)?;
        let (layer, site) = rest.split_once('.').ok_or_else(bad)?;
        let layer: usize = layer.parse().map_err(|_| bad())?;
        let site = match site {
            "hook_resid_pre" => Site::ResidPre,
            "hook_resid_mid" => Site::ResidMid,
            "hook_resid_post" => Site::ResidPost,
            "hook_attn_out" => Site::AttnOut,
            "hook_mlp_out" => Site::MlpOut,
            _ => return Err(bad()),
        };
        Ok(Hook { layer, site })
    }
}

impl std::str::FromStr for Hook {
    type Err = Error;
    fn from_str(s: &str) -> Result<Hook> {
        Hook::parse(s)
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.site {
            Site::ResidPre => "hook_resid_pre",
            Site::ResidMid => "hook_resid_mid",
            Site::ResidPost => "hook_resid_post",
            Site::AttnOut => "hook_attn_out",
            Site::MlpOut => "hook_mlp_out",
        };
        write!(f, "blocks.{}.{s}", self.layer)
    }
}
