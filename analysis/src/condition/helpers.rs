//! Argo's helper functions: `isNaN`, `isInf`, `isNil`, `default`, `asInt`, `asFloat`.
//!
//! Argo's `isNil` and `default` ignore their first argument and look at the whole `result`;
//! here they look at the argument they are given, so `default(result, 0)` means the same as in
//! Argo and `default(result[0], 0)` does what it says (an empty result yields the fallback).

use expr::{Environment, Value};

use super::value::type_name;

/// Adds the helpers to `env`.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("isNaN", |call| match one(&call.ident, &call.args)? {
        Value::Float(f) => Ok(Value::Bool(f.is_nan())),
        Value::Integer(_) => Ok(Value::Bool(false)),
        other => Err(expects_number("isNaN", other)),
    });
    env.add_function("isInf", |call| match one(&call.ident, &call.args)? {
        Value::Float(f) => Ok(Value::Bool(f.is_infinite())),
        Value::Integer(_) => Ok(Value::Bool(false)),
        other => Err(expects_number("isInf", other)),
    });
    env.add_function("isNil", |call| Ok(Value::Bool(one(&call.ident, &call.args)?.is_nil())));
    env.add_function("default", |call| match call.args.as_slice() {
        [value, fallback] => Ok(if value.is_nil() {
            fallback.clone()
        } else {
            value.clone()
        }),
        args => Err(arity("default", 2, args.len())),
    });
    env.add_function("asInt", |call| match one(&call.ident, &call.args)? {
        Value::Integer(n) => Ok(Value::Integer(*n)),
        // Go's int64(f): truncation towards zero.
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(f) => Ok(Value::Integer(f.trunc() as i64)),
        Value::String(text) => text
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| expr::Error::ExprError(format!("asInt: {text:?} is not an integer"))),
        other => Err(expr::Error::ExprError(format!(
            "asInt: expects a number or a numeric string, got {}",
            type_name(other)
        ))),
    });
    env.add_function("asFloat", |call| match one(&call.ident, &call.args)? {
        #[allow(clippy::cast_precision_loss)]
        Value::Integer(n) => Ok(Value::Float(*n as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| expr::Error::ExprError(format!("asFloat: {text:?} is not a number"))),
        other => Err(expr::Error::ExprError(format!(
            "asFloat: expects a number or a numeric string, got {}",
            type_name(other)
        ))),
    });
}

fn one<'a>(name: &str, args: &'a [Value]) -> expr::Result<&'a Value> {
    match args {
        [value] => Ok(value),
        _ => Err(arity(name, 1, args.len())),
    }
}

fn arity(name: &str, expected: usize, got: usize) -> expr::Error {
    expr::Error::ExprError(format!("{name} expects {expected} argument(s), got {got}"))
}

fn expects_number(name: &str, got: &Value) -> expr::Error {
    expr::Error::ExprError(format!("{name} expects a number, got {}", type_name(got)))
}
