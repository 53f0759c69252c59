//! Items grouped by a key, groups in the order their keys first appear, in one pass: a map of
//! 100 000 splices groups its rows by host and token set, where searching a list of the groups
//! for each row would take hours.

use std::collections::HashMap;
use std::hash::Hash;

/// `items` grouped by `key`, each group in item order, the groups in first-appearance order.
pub fn in_order<T, K: Hash + Eq + Clone>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<T>)> {
    let mut at: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<(K, Vec<T>)> = vec![];
    for t in items {
        let k = key(&t);
        match at.get(&k) {
            Some(&i) => groups[i].1.push(t),
            None => {
                at.insert(k.clone(), groups.len());
                groups.push((k, vec![t]));
            }
        }
    }
    groups
}
