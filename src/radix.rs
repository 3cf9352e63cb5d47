//! A least-significant-digit radix sort for the hot paths that sort millions of small entries
//! by an integer key (duplicate detection, fingerprints): several times faster than a comparison
//! sort there, and stable.

/// Sorts `entries` by the low `bytes` bytes of `key`, one stable counting pass per byte (a byte
/// that every entry shares is skipped). `scratch` is reused between calls.
pub(crate) fn sort_by_key<T: Copy + Default>(
    entries: &mut Vec<T>,
    scratch: &mut Vec<T>,
    bytes: u32,
    key: impl Fn(&T) -> u64,
) {
    scratch.clear();
    scratch.resize(entries.len(), T::default());
    for pass in 0..bytes.min(8) {
        let shift = pass * 8;
        let digit = |entry: &T| ((key(entry) >> shift) & 0xFF) as usize;
        let mut counts = [0usize; 256];
        for entry in entries.iter() {
            counts[digit(entry)] += 1;
        }
        if counts.contains(&entries.len()) {
            continue;
        }
        let mut next = [0usize; 256];
        let mut total = 0;
        for (slot, count) in next.iter_mut().zip(counts) {
            *slot = total;
            total += count;
        }
        for entry in entries.iter() {
            let slot = &mut next[digit(entry)];
            if let Some(place) = scratch.get_mut(*slot) {
                *place = *entry;
            }
            *slot += 1;
        }
        std::mem::swap(entries, scratch);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_as_a_stable_comparison_sort_does(values in proptest::collection::vec((any::<u32>(), any::<u16>()), 0..600)) {
            let mut expected = values.clone();
            expected.sort_by_key(|v| v.0);
            let (mut sorted, mut scratch) = (values, Vec::new());
            super::sort_by_key(&mut sorted, &mut scratch, 4, |v| u64::from(v.0));
            prop_assert_eq!(sorted, expected);
        }
    }

    #[test]
    fn sorts_64_bit_keys() {
        let mut values: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        let mut expected = values.clone();
        expected.sort_unstable();
        super::sort_by_key(&mut values, &mut Vec::new(), 8, |v| *v);
        assert_eq!(values, expected);
    }
}
