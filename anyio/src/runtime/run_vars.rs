//! The storage behind `lowlevel::RunVar`: one map per runtime (and one for code that
//! runs outside any runtime), keyed by each variable's unique id.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::base::lock::lock;

pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// The values of the variables set in one runtime.
#[derive(Default)]
pub(crate) struct RunVarValues {
    values: Mutex<HashMap<u64, Value>>,
}

impl RunVarValues {
    /// The value of `key` (a reference: the value itself is cloned, if at all, after
    /// the lock is released).
    pub(crate) fn get(&self, key: u64) -> Option<Value> {
        lock(&self.values).get(&key).cloned()
    }

    /// Sets `key` to `value` (or removes it), returning the old value, which the caller
    /// drops after the lock is released.
    pub(crate) fn replace(&self, key: u64, value: Option<Value>) -> Option<Value> {
        let mut values = lock(&self.values);
        match value {
            Some(value) => values.insert(key, value),
            None => values.remove(&key),
        }
    }

    /// Drops every value (when the runtime ends), outside the lock.
    pub(crate) fn clear(&self) {
        let values = std::mem::take(&mut *lock(&self.values));
        drop(values);
    }
}
