//! Tools for the hot paths that look for repeats among millions of hashes (duplicate detection,
//! fingerprints): a prefilter that sets aside the hashes that cannot repeat, and a
//! least-significant-digit radix sort for the rest (several times faster than a comparison sort
//! there, and stable).

/// Which values of a 24-bit bucket (the top bits of a hash) came up more than once among a list
/// of hashes: two bitmaps of 2 MB. A hash whose bucket came up once has no equal in the list, so
/// only the few percent of hashes in repeated buckets need sorting and comparing.
pub(crate) struct RepeatedBuckets {
    twice: Vec<u64>,
}

impl RepeatedBuckets {
    /// Fewer entries than this are sorted whole: the bitmaps would cost more than they save.
    pub(crate) const WORTH_IT: usize = 4096;

    /// The buckets (24-bit values; higher bits are ignored) that come up more than once.
    pub(crate) fn new(buckets: impl Iterator<Item = u32>) -> Self {
        let mut seen = vec![0u64; 1 << 18];
        let mut twice = vec![0u64; 1 << 18];
        for bucket in buckets {
            let (word, bit) = Self::slot(bucket);
            if let (Some(seen), Some(twice)) = (seen.get_mut(word), twice.get_mut(word)) {
                if *seen & bit != 0 {
                    *twice |= bit;
                }
                *seen |= bit;
            }
        }
        RepeatedBuckets { twice }
    }

    /// Whether this bucket came up more than once.
    pub(crate) fn repeated(&self, bucket: u32) -> bool {
        let (word, bit) = Self::slot(bucket);
        self.twice.get(word).is_some_and(|w| w & bit != 0)
    }

    fn slot(bucket: u32) -> (usize, u64) {
        let bucket = bucket & 0x00FF_FFFF;
        ((bucket >> 6) as usize, 1u64 << (bucket & 63))
    }
}

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
    fn repeated_buckets_are_those_that_come_up_twice() {
        let buckets = [5u32, 0x00FF_FFFF, 5, 64, 0x0100_0040];
        let repeated = super::RepeatedBuckets::new(buckets.iter().copied());
        assert!(repeated.repeated(5));
        assert!(repeated.repeated(64), "the bits above 24 are ignored: 0x0100_0040 is bucket 64");
        assert!(!repeated.repeated(0x00FF_FFFF));
        assert!(!repeated.repeated(6));
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
