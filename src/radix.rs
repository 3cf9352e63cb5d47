//! Tools for the hot paths that look for repeats among millions of hashes (duplicate detection,
//! fingerprints): a prefilter that sets aside the hashes that cannot repeat, and a
//! least-significant-digit radix sort for the rest (several times faster than a comparison sort
//! there, and stable).

/// Which values of a 24-bit bucket (the top bits of a hash) came up more than once among a list
/// of hashes: two bitmaps of 2 MB. A hash whose bucket came up once has no equal in the list, so
/// only the few percent of hashes in repeated buckets need sorting and comparing.
pub(crate) struct RepeatedBuckets {
    twice: Bits,
}

impl RepeatedBuckets {
    /// Fewer entries than this are sorted whole: the bitmaps would cost more than they save.
    pub(crate) const WORTH_IT: usize = 4096;

    /// The buckets (24-bit values; higher bits are ignored) that come up more than once.
    pub(crate) fn new(buckets: impl Iterator<Item = u32>) -> Self {
        let (mut seen, mut twice) = (Bits::new(1 << 24), Bits::new(1 << 24));
        for bucket in buckets.map(|bucket| (bucket & 0x00FF_FFFF) as usize) {
            if seen.insert(bucket) {
                twice.insert(bucket);
            }
        }
        RepeatedBuckets { twice }
    }

    /// Whether this bucket came up more than once.
    pub(crate) fn repeated(&self, bucket: u32) -> bool {
        self.twice.contains((bucket & 0x00FF_FFFF) as usize)
    }
}

/// A set of the numbers below a bound, a bit each.
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    /// The empty set of the numbers below `bound` (rounded up to a multiple of 64).
    pub(crate) fn new(bound: usize) -> Self {
        Bits(vec![0; bound.div_ceil(64)])
    }

    /// Adds `i` (a number past the bound is not kept); true when it was there already.
    pub(crate) fn insert(&mut self, i: usize) -> bool {
        let bit = 1u64 << (i % 64);
        self.0.get_mut(i / 64).is_some_and(|word| std::mem::replace(word, *word | bit) & bit != 0)
    }

    /// Whether `i` is in the set.
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|word| word & (1 << (i % 64)) != 0)
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

    use super::*;

    #[test]
    fn bits_keep_the_numbers_below_their_bound() {
        let mut bits = Bits::new(128);
        assert!(!bits.insert(0) && !bits.insert(64) && !bits.insert(127));
        assert!(bits.insert(64), "inserted twice");
        assert!(!bits.insert(128) && !bits.insert(10_000), "past the bound: not kept");
        let kept: Vec<usize> = (0..200).filter(|&i| bits.contains(i)).collect();
        assert_eq!(kept, [0, 64, 127]);
    }

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
