//! Token ids from a `.npy` array [n_seq, ctx] of int32, int64, uint16 or uint32 (NumPy's own format,
//! read with `npyz`; no pickled object arrays), or from a text file and a `tokenizer.json` (the Rust
//! `tokenizers` crate).

use std::path::Path;

use crate::error::{DataKind, Error, Result};

/// Token ids, row-major [n_seq, ctx].
#[derive(Clone, Debug, PartialEq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    pub n_seq: usize,
    pub ctx: usize,
}

/// Where a .npy file's header starts and how long it is: after the magic (6), version (2) and the
/// header's length (2 bytes in version 1, 4 after). Its data start at `start + len`.
fn header_span(bytes: &[u8]) -> Option<(usize, usize)> {
    let (len, start) = match bytes.get(6)? {
        1 => (
            u16::from_le_bytes(bytes.get(8..10)?.try_into().ok()?) as usize,
            10,
        ),
        _ => (
            u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize,
            12,
        ),
    };
    Some((start, len))
}

/// Whether a .npy header's shape tuple multiplies out beyond u64. Checked before npyz reads the
/// header, which multiplies the shape unchecked (and panics when it overflows); a header this
/// cannot parse is left to npyz to report.
fn shape_overflows(bytes: &[u8]) -> bool {
    let Some(header) = header_span(bytes).and_then(|(s, l)| bytes.get(s..s.checked_add(l)?)) else {
        return false;
    };
    let header = String::from_utf8_lossy(header);
    let Some(after) = header.split("shape").nth(1) else {
        return false;
    };
    let Some(tuple) = after.split_once('(').and_then(|(_, t)| t.split_once(')')) else {
        return false;
    };
    let dims: Option<Vec<u64>> = tuple
        .0
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse().ok())
        .collect();
    dims.is_some_and(|d| d.iter().try_fold(1u64, |a, &b| a.checked_mul(b)).is_none())
}

impl Tokens {
    /// The ids as a NumPy int32 array [n_seq, ctx], the layout `read_npy` and NumPy read.
    pub fn npy_bytes(&self) -> Vec<u8> {
        use npyz::WriterBuilder;
        let mut buf = vec![];
        let mut w = npyz::WriteOptions::<i32>::new()
            .default_dtype()
            .shape(&[self.n_seq as u64, self.ctx as u64])
            .writer(&mut buf)
            .begin_nd()
            .expect("writing to memory");
        w.extend(self.ids.iter().map(|&t| t as i32))
            .expect("writing to memory");
        w.finish().expect("writing to memory");
        buf
    }

    pub fn read_npy(path: &Path) -> Result<Tokens> {
        let bad = |message: String| Error::Data {
            kind: DataKind::Tokens,
            path: path.to_owned(),
            message,
        };
        let bytes = std::fs::read(path).map_err(Error::io(path))?;
        if shape_overflows(&bytes) {
            return Err(bad(
                "the header's shape has more elements than a 64-bit count holds".into(),
            ));
        }
        let npy =
            npyz::NpyFile::new(&bytes[..]).map_err(|e| bad(format!("not a .npy file: {e}")))?;
        let shape: Vec<u64> = npy.shape().to_vec();
        let [n_seq, ctx] = shape[..] else {
            return Err(bad(format!(
                "expected a 2-d array [n_seq, ctx] of token ids, got shape {shape:?}"
            )));
        };
        if npy.order() == npyz::Order::Fortran {
            return Err(bad(
                "the array is in Fortran order; save it C-contiguous (np.ascontiguousarray)".into(),
            ));
        }
        let descr = match npy.dtype() {
            npyz::DType::Plain(ts) => ts.to_string(),
            other => format!("{other:?}"),
        };
        let itemsize: u64 = match descr.as_str() {
            "<i8" => 8,
            "<i4" | "<u4" => 4,
            "<u2" => 2,
            other => {
                return Err(bad(format!(
                    "token ids have dtype {other}; use int32, int64, uint16 or uint32 (little-endian)"
                )));
            }
        };
        if n_seq == 0 || ctx == 0 {
            return Err(bad(format!("the array {shape:?} holds no tokens")));
        }
        // The header's shape sets the allocation: check it against the bytes present first, and
        // every byte after the header is an id (a file cut short, or longer than its header says,
        // is not the array it claims to be).
        let need = n_seq.checked_mul(ctx).and_then(|n| n.checked_mul(itemsize));
        let data = header_span(&bytes).map_or(0, |(s, l)| bytes.len().saturating_sub(s + l));
        if need != Some(data as u64) {
            let need = need.map_or("more than 2^64".into(), |n| n.to_string());
            return Err(bad(format!(
                "the header declares shape {shape:?} of {descr}, {need} bytes of ids, but {data} \
                 bytes follow it: the file is cut short or its header is wrong; save the array \
                 again (numpy.save)"
            )));
        }
        let wide: Vec<i64> = match descr.as_str() {
            "<i8" => npy.into_vec::<i64>(),
            "<i4" => npy
                .into_vec::<i32>()
                .map(|v| v.into_iter().map(i64::from).collect()),
            "<u2" => npy
                .into_vec::<u16>()
                .map(|v| v.into_iter().map(i64::from).collect()),
            _ => npy
                .into_vec::<u32>()
                .map(|v| v.into_iter().map(i64::from).collect()),
        }
        .map_err(|e| bad(format!("cannot read the array: {e}")))?;
        let mut ids = Vec::with_capacity(wide.len());
        for (i, v) in wide.into_iter().enumerate() {
            let id = u32::try_from(v).map_err(|_| {
                bad(format!(
                    "token id {v} at [{}, {}] is negative or too large",
                    i / ctx as usize,
                    i % ctx as usize
                ))
            })?;
            ids.push(id);
        }
        Ok(Tokens {
            ids,
            n_seq: n_seq as usize,
            ctx: ctx as usize,
        })
    }

    /// Tokenizes a text file with a Hugging Face `tokenizer.json` (no special tokens added) and cuts the
    /// ids into rows of `ctx`: each row starts with `bos` (when the model has one, as SAELens's
    /// prepend_bos does) followed by ctx − 1 text tokens; a last partial row is dropped.
    pub fn from_text(
        text: &Path,
        tokenizer: &Path,
        ctx: usize,
        bos: Option<u32>,
    ) -> Result<Tokens> {
        if ctx < 2 {
            return Err(Error::Invalid {
                fix: None,
                option: "ctx",
                message: format!("the row length must be at least 2, got {ctx}"),
            });
        }
        // The tokenizers crate unwraps some parse errors of its own: invalid JSON is refused here
        // first, and a panic left inside it becomes an error rather than a crash.
        let bytes = std::fs::read(tokenizer).map_err(Error::io(tokenizer))?;
        serde_json::from_slice::<serde_json::Value>(&bytes).map_err(Error::json(tokenizer))?;
        let tok =
            guarded(tokenizer, || tokenizers::Tokenizer::from_bytes(&bytes)).map_err(|m| {
                Error::Data {
                    kind: DataKind::Tokens,
                    path: tokenizer.to_owned(),
                    message: format!(
                        "not a tokenizer.json this version of `tokenizers` can read: {m}"
                    ),
                }
            })?;
        let body = std::fs::read_to_string(text).map_err(Error::io(text))?;
        let enc = guarded(text, || tok.encode(body, false)).map_err(|m| Error::Data {
            kind: DataKind::Tokens,
            path: text.to_owned(),
            message: format!("tokenizing failed: {m}"),
        })?;
        let per_row = ctx - usize::from(bos.is_some());
        let ids = enc.get_ids();
        let n_seq = ids.len() / per_row;
        if n_seq == 0 {
            return Err(Error::Data {
                kind: DataKind::Tokens,
                path: text.to_owned(),
                message: format!(
                    "only {} token{}: fewer than one row of {ctx} positions",
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" }
                ),
            });
        }
        // At most twice the ids the text holds (each row adds one BOS to ≥ 1 text token).
        let mut out = Vec::with_capacity(n_seq * ctx);
        for row in ids.chunks_exact(per_row).take(n_seq) {
            out.extend(bos);
            out.extend_from_slice(row);
        }
        Ok(Tokens {
            ids: out,
            n_seq,
            ctx,
        })
    }

    /// Checks every id is below the vocabulary size and the context fits the model.
    pub fn check(&self, path: &Path, vocab: usize, max_positions: usize) -> Result<()> {
        if let Some((i, id)) = self
            .ids
            .iter()
            .enumerate()
            .find(|(_, id)| **id as usize >= vocab)
        {
            return Err(Error::Data {
                kind: DataKind::Tokens,
                path: path.to_owned(),
                message: format!(
                    "token id {id} at [{}, {}] is not below the model's vocabulary size {vocab}",
                    i / self.ctx,
                    i % self.ctx
                ),
            });
        }
        if self.ctx > max_positions || self.ctx < 2 {
            return Err(Error::Data {
                kind: DataKind::Tokens,
                path: path.to_owned(),
                message: format!(
                    "context {} must be between 2 and the model's {max_positions} positions",
                    self.ctx
                ),
            });
        }
        Ok(())
    }

    /// Rows `r0..r1` as an Int tensor [rows, ctx].
    pub fn batch(
        &self,
        r0: usize,
        r1: usize,
        device: &burn::tensor::Device,
    ) -> burn::tensor::Tensor<2, burn::tensor::Int> {
        let data: Vec<i64> = self.ids[r0 * self.ctx..r1 * self.ctx]
            .iter()
            .map(|&v| v as i64)
            .collect();
        burn::tensor::Tensor::from_data(
            burn::tensor::TensorData::new(data, [r1 - r0, self.ctx]),
            device,
        )
    }
}

/// Runs a call into the tokenizers crate, turning its error or its panic into a message.
fn guarded<T, E: std::fmt::Display>(
    path: &Path,
    f: impl FnOnce() -> std::result::Result<T, E>,
) -> std::result::Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the tokenizers library failed on {} (it panicked)",
            path.display()
        )),
    }
}
