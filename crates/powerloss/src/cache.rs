//! What one file holds beyond its durable content: every write since the last `fsync`, kept
//! here and not on the disk below, as a disk's volatile cache would. A power cut drops it; a
//! torn cut keeps a prefix of the last write.

use std::collections::BTreeMap;

/// One file as the application sees it, and what of it is not yet durable.
#[derive(Debug, Default, Clone)]
pub struct FileCache {
    /// The content as the application sees it: the durable content with every write since.
    pub current: Vec<u8>,
    /// The length on the disk below.
    durable_len: u64,
    /// Byte ranges written since the last sync, `start → end` (merged, disjoint).
    dirty: BTreeMap<u64, u64>,
    /// The last write not yet synced: where, and what.
    last_write: Option<(u64, Vec<u8>)>,
}

/// What a sync has to put on the disk below: the new length and the ranges to write.
#[derive(Debug, PartialEq, Eq)]
pub struct Persist {
    pub len: u64,
    pub ranges: Vec<(u64, Vec<u8>)>,
}

impl FileCache {
    /// A file whose durable content is `durable`.
    pub fn loaded(durable: Vec<u8>) -> FileCache {
        FileCache { durable_len: durable.len() as u64, current: durable, ..FileCache::default() }
    }

    pub fn len(&self) -> u64 {
        self.current.len() as u64
    }

    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty() || self.durable_len != self.len()
    }

    pub fn read(&self, offset: u64, size: usize) -> &[u8] {
        let start = (offset as usize).min(self.current.len());
        let end = start.saturating_add(size).min(self.current.len());
        &self.current[start..end]
    }

    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let (start, end) = (offset as usize, offset as usize + data.len());
        if self.current.len() < end {
            self.current.resize(end, 0);
        }
        self.current[start..end].copy_from_slice(data);
        self.mark(offset, end as u64);
        self.last_write = Some((offset, data.to_vec()));
    }

    pub fn truncate(&mut self, len: u64) {
        let grown = len > self.len();
        let old = self.len();
        self.current.resize(len as usize, 0);
        if grown {
            self.mark(old, len);
        }
        self.dirty = self.dirty.iter().filter(|&(&s, _)| s < len).map(|(&s, &e)| (s, e.min(len))).collect();
    }

    fn mark(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        let overlapping: Vec<u64> = self.dirty.range(..=end).filter(|&(_, &e)| e >= start).map(|(&s, _)| s).collect();
        for s in overlapping {
            if let Some(e) = self.dirty.remove(&s) {
                start = start.min(s);
                end = end.max(e);
            }
        }
        self.dirty.insert(start, end);
    }

    /// What a sync writes below; after it is written, [`FileCache::synced`].
    pub fn to_persist(&self) -> Persist {
        let ranges = self.dirty.iter().map(|(&s, &e)| (s, self.current[s as usize..e as usize].to_vec())).collect();
        Persist { len: self.len(), ranges }
    }

    pub fn synced(&mut self) {
        self.dirty.clear();
        self.durable_len = self.len();
        self.last_write = None;
    }

    /// A torn cut: the first `keep` bytes of the last unsynced write reach the disk, and
    /// nothing else does. `None` when nothing was written since the last sync.
    pub fn torn(&self, keep: usize) -> Option<(u64, Vec<u8>)> {
        let (offset, data) = self.last_write.as_ref()?;
        Some((*offset, data[..keep.min(data.len())].to_vec()))
    }

    pub fn last_write_len(&self) -> usize {
        self.last_write.as_ref().map_or(0, |(_, data)| data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_seen_at_once_and_persisted_only_as_dirty_ranges() {
        let mut file = FileCache::loaded(b"0123456789".to_vec());
        assert!(!file.is_dirty());
        file.write(2, b"ab");
        file.write(3, b"cd");
        file.write(12, b"xy");
        assert_eq!(file.read(0, 100), b"01acd56789\0\0xy");
        let persist = file.to_persist();
        assert_eq!(persist.len, 14);
        assert_eq!(persist.ranges, vec![(2, b"acd".to_vec()), (12, b"xy".to_vec())]);
        file.synced();
        assert!(!file.is_dirty() && file.torn(1).is_none());
    }

    #[test]
    fn a_truncate_shortens_what_is_dirty_and_a_torn_cut_keeps_a_prefix_of_the_last_write() {
        let mut file = FileCache::loaded(vec![1; 8]);
        file.write(4, &[9; 8]);
        file.truncate(6);
        assert_eq!(file.to_persist(), Persist { len: 6, ranges: vec![(4, vec![9, 9])] });
        file.write(0, b"hello");
        assert_eq!(file.torn(2), Some((0, b"he".to_vec())));
        assert_eq!(file.last_write_len(), 5);
    }
}
