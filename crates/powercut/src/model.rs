//! What the disk holds for one file: its content at the last fsync and the writes since.

/// The unit a disk writes whole or not at all.
pub const SECTOR: usize = 512;

/// Which of the writes not yet fsynced reach the disk when the power goes.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// None of them: the disk holds exactly what was synced.
    Nothing,
    /// Each sector of each write (and each truncation), kept or lost at random; those kept
    /// land in the order they were made.
    RandomSectors { seed: u64 },
}

#[derive(Debug)]
pub(crate) enum Op {
    Write { offset: usize, data: Vec<u8> },
    Truncate(usize),
}

#[derive(Debug, Default)]
pub(crate) struct FileModel {
    /// The content at the last fsync: sure to be on the disk.
    pub(crate) durable: Vec<u8>,
    /// Made since, in order: may or may not be on the disk.
    pub(crate) pending: Vec<Op>,
}

impl FileModel {
    pub(crate) fn with_content(durable: Vec<u8>) -> FileModel {
        FileModel {
            durable,
            pending: Vec::new(),
        }
    }

    /// An fsync: everything written is now on the disk.
    pub(crate) fn sync(&mut self) {
        for op in std::mem::take(&mut self.pending) {
            apply(&mut self.durable, &op);
        }
    }

    /// The file as the disk could hold it if the power went now: the synced content, plus
    /// (given a random source) a random choice of the sectors written since.
    pub(crate) fn after_cut(&self, rng: Option<&mut fastrand::Rng>) -> Vec<u8> {
        let mut image = self.durable.clone();
        if let Some(rng) = rng {
            for op in &self.pending {
                match op {
                    Op::Write { offset, data } => {
                        for (at, piece) in sectors(*offset, data) {
                            if rng.bool() {
                                apply(
                                    &mut image,
                                    &Op::Write {
                                        offset: at,
                                        data: piece.to_vec(),
                                    },
                                );
                            }
                        }
                    }
                    Op::Truncate(_) => {
                        if rng.bool() {
                            apply(&mut image, op);
                        }
                    }
                }
            }
        }
        image
    }
}

fn apply(image: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Write { offset, data } => {
            let end = offset + data.len();
            if image.len() < end {
                image.resize(end, 0);
            }
            image[*offset..end].copy_from_slice(data);
        }
        Op::Truncate(len) => image.resize(*len, 0),
    }
}

/// `data` written at `offset`, cut at sector boundaries.
fn sectors(offset: usize, data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut at = offset;
    let mut rest = data;
    while !rest.is_empty() {
        let n = (SECTOR - at % SECTOR).min(rest.len());
        out.push((at, &rest[..n]));
        at += n;
        rest = &rest[n..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(offset: usize, data: &[u8]) -> Op {
        Op::Write {
            offset,
            data: data.to_vec(),
        }
    }

    #[test]
    fn a_sync_makes_every_write_durable_in_order() {
        let mut f = FileModel::with_content(b"abc".to_vec());
        f.pending.push(write(1, b"XY"));
        f.pending.push(write(5, b"Z"));
        f.pending.push(Op::Truncate(4));
        f.sync();
        assert_eq!(f.durable, b"aXY\0");
        assert!(f.pending.is_empty());
    }

    #[test]
    fn keeping_nothing_gives_the_synced_content() {
        let mut f = FileModel::with_content(vec![1; 10]);
        f.pending.push(write(0, &[2; 4096]));
        f.pending.push(Op::Truncate(0));
        let image = f.after_cut(None);
        assert_eq!(image, vec![1; 10]);
    }

    #[test]
    fn writes_are_cut_at_sector_boundaries() {
        let pieces = sectors(500, &[0; 600]);
        let spans: Vec<(usize, usize)> = pieces.iter().map(|(a, d)| (*a, d.len())).collect();
        assert_eq!(spans, vec![(500, 12), (512, 512), (1024, 76)]);
    }

    #[test]
    fn random_sectors_keep_whole_sectors_only_and_some_of_each() {
        let f = FileModel {
            durable: vec![0; 64 * SECTOR],
            pending: vec![write(0, &vec![9; 64 * SECTOR])],
        };
        let image = f.after_cut(Some(&mut fastrand::Rng::with_seed(7)));
        let kept: Vec<bool> = image.chunks(SECTOR).map(|s| s[0] == 9).collect();
        for (s, k) in image.chunks(SECTOR).zip(&kept) {
            assert!(
                s.iter().all(|b| *b == if *k { 9 } else { 0 }),
                "a torn sector"
            );
        }
        assert!(kept.iter().any(|k| *k) && kept.iter().any(|k| !*k));
    }
}
