//! Envoy's CEL foreign functions, answering as Envoy 1.40 does:
//!
//! - `expr_create(text)`: compiles a CEL expression for the calling plugin's root context; its
//!   token (4 bytes, little-endian, counted from 0 per root). Text that does not parse is
//!   `BadArgument`.
//! - `expr_evaluate(token)`: evaluates it over the current context's attributes
//!   (`activation.rs`); the value encoded as Envoy encodes it (`encode`). An argument that is not
//!   4 bytes is `BadArgument`, an unknown token `NotFound`, an evaluation error (an unknown
//!   name, a missing key, a division by zero) `InternalFailure`, a value with no encoding
//!   (`null`, a type) `SerializationFailure`.
//! - `expr_delete(token)`: forgets it (`Ok` whether or not it existed).
//!
//! wasmesh bounds what Envoy does not, so a guest cannot make a hostcall run or hold without
//! end: the text is at most [`MAX_TEXT`] bytes, a VM holds at most
//! [`MAX_EXPRESSIONS`] (past them: `InternalFailure`), and an
//! expression may nest comprehensions (`all`, `exists`, `map`, `filter`) at most
//! [`MAX_COMPREHENSION_DEPTH`] deep (`BadArgument`), since each level multiplies the work one
//! evaluation does on the worker's thread.

mod activation;
mod encode;

use cel::common::ast::{EntryExpr, Expr};
use cel::{IdedExpr, Program};

use crate::abi::Status;
use crate::store::expressions::MAX_EXPRESSIONS;
use crate::store::HostState;

/// Longest expression text accepted.
pub const MAX_TEXT: usize = 16 << 10;

/// Deepest nesting of comprehensions accepted.
pub const MAX_COMPREHENSION_DEPTH: usize = 2;

/// `expr_create`.
pub fn create(text: &[u8], state: &mut HostState) -> Result<Vec<u8>, Status> {
    let text = std::str::from_utf8(text).map_err(|_| Status::BadArgument)?;
    if text.len() > MAX_TEXT {
        log::info!(
            "expr_create: an expression of {} bytes (at most {MAX_TEXT})",
            text.len()
        );
        return Err(Status::BadArgument);
    }
    let program = Program::compile(text).map_err(|e| {
        log::info!("expr_create parse error: {e}");
        Status::BadArgument
    })?;
    if comprehension_depth(program.expression()) > MAX_COMPREHENSION_DEPTH {
        log::info!("expr_create: comprehensions nested deeper than {MAX_COMPREHENSION_DEPTH}");
        return Err(Status::BadArgument);
    }
    let root = state.root_context;
    let token = state.expressions.insert(root, program).ok_or_else(|| {
        log::debug!("expr_create: the VM holds {MAX_EXPRESSIONS} expressions already");
        Status::InternalFailure
    })?;
    Ok(token.to_le_bytes().to_vec())
}

/// `expr_evaluate`.
pub fn evaluate(token: &[u8], state: &mut HostState) -> Result<Vec<u8>, Status> {
    let token = token_of(token)?;
    let root = state.root_context;
    let program = state.expressions.get(root, token).ok_or(Status::NotFound)?;
    let references = activation::References::of(program);
    let context = activation::context(&references, state);
    let program = state.expressions.get(root, token).ok_or(Status::NotFound)?;
    let value = program.execute(&context).map_err(|e| {
        log::debug!("expr_evaluate error: {e}");
        Status::InternalFailure
    })?;
    encode::value(&value).ok_or(Status::SerializationFailure)
}

/// `expr_delete`.
pub fn delete(token: &[u8], state: &mut HostState) -> Result<Vec<u8>, Status> {
    let token = token_of(token)?;
    let root = state.root_context;
    state.expressions.remove(root, token);
    Ok(Vec::new())
}

fn token_of(bytes: &[u8]) -> Result<u32, Status> {
    let bytes: [u8; 4] = bytes.try_into().map_err(|_| Status::BadArgument)?;
    Ok(u32::from_le_bytes(bytes))
}

/// How deep comprehensions nest in `expr`.
fn comprehension_depth(expr: &IdedExpr) -> usize {
    let deepest = |exprs: &mut dyn Iterator<Item = &IdedExpr>| {
        exprs.map(comprehension_depth).max().unwrap_or(0)
    };
    match &expr.expr {
        Expr::Comprehension(c) => {
            let parts = [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ];
            1 + deepest(&mut parts.into_iter())
        }
        Expr::Call(call) => deepest(&mut call.target.iter().map(|t| &**t).chain(&call.args)),
        Expr::List(list) => deepest(&mut list.elements.iter()),
        Expr::Map(map) => deepest(&mut map.entries.iter().flat_map(|e| entry_parts(&e.expr))),
        Expr::Struct(s) => deepest(&mut s.entries.iter().flat_map(|e| entry_parts(&e.expr))),
        Expr::Select(select) => comprehension_depth(&select.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    }
}

fn entry_parts(entry: &EntryExpr) -> Vec<&IdedExpr> {
    match entry {
        EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
        EntryExpr::StructField(f) => vec![&f.value],
    }
}

#[cfg(test)]
mod tests;
