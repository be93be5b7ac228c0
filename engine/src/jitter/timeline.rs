//! The jitter buffer's storage: decoded samples in a power-of-two ring indexed by extended
//! RTP timestamp, with one "present" flag per sample. A range of the timeline maps to at
//! most two contiguous runs of the ring, so every operation is plain slice work.

use tandem_codecs::g711::{self, Law};

#[derive(Clone, Debug)]
pub(super) struct Timeline {
    ring: Vec<i16>,
    present: Vec<bool>,
    mask: usize,
}

impl Timeline {
    /// Room for at least `samples` samples.
    pub fn new(samples: usize) -> Timeline {
        let size = samples.next_power_of_two();
        Timeline {
            ring: vec![0; size],
            present: vec![false; size],
            mask: size - 1,
        }
    }

    /// Samples the ring holds.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// The ring positions of timeline samples `[from, from + n)`: at most two contiguous
    /// runs (start, length).
    fn segments(&self, from: i64, n: usize) -> [(usize, usize); 2] {
        let start = from as usize & self.mask;
        let first = n.min(self.ring.len() - start);
        [(start, first), (0, n - first)]
    }

    /// How many of `[from, from + n)` are present.
    pub fn count_present(&self, from: i64, n: usize) -> usize {
        self.segments(from, n)
            .iter()
            .map(|&(s, len)| self.present[s..s + len].iter().filter(|&&p| p).count())
            .sum()
    }

    /// Decodes `payload` into the timeline from `from` on and marks it present.
    pub fn write(&mut self, from: i64, law: Law, payload: &[u8]) {
        let mut done = 0;
        for (start, n) in self.segments(from, payload.len()) {
            g711::decode_frame(
                law,
                &payload[done..done + n],
                &mut self.ring[start..start + n],
            );
            self.present[start..start + n].fill(true);
            done += n;
        }
    }

    /// Copies the present samples of `[from, from + out.len())` into `out` (`complete`:
    /// the caller counted them all present).
    pub fn read(&self, from: i64, out: &mut [i16], complete: bool) {
        let mut done = 0;
        for (s, len) in self.segments(from, out.len()) {
            let (src, flags) = (&self.ring[s..s + len], &self.present[s..s + len]);
            let dst = &mut out[done..done + len];
            if complete {
                dst.copy_from_slice(src);
            } else {
                for ((o, &v), &p) in dst.iter_mut().zip(src).zip(flags) {
                    if p {
                        *o = v;
                    }
                }
            }
            done += len;
        }
    }

    /// Marks `[from, from + n)` absent.
    pub fn clear(&mut self, from: i64, n: usize) {
        for (s, len) in self.segments(from, n) {
            self.present[s..s + len].fill(false);
        }
    }

    /// Marks everything absent.
    pub fn clear_all(&mut self) {
        self.present.fill(false);
    }
}
