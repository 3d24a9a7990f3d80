//! The filesystem: a directory below, passed through for everything but file data. Data
//! written is kept in [`FileCache`] until the file is `fsync`ed (or `fdatasync`ed), and only
//! then written below and synced there. Creating, removing and renaming files go below at once
//! (they are durable here as soon as they return: a limit of this harness, which tests the
//! data a server fsyncs, not the directory entries it relies on).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyWrite, Request, TimeOrNow,
};

use crate::cache::FileCache;

/// Attributes are never cached by the kernel: a file's size is the cache's, and it changes.
const TTL: Duration = Duration::ZERO;
const ROOT: u64 = 1;

/// Everything the filesystem knows, shared with whoever cuts the power.
pub struct State {
    below: PathBuf,
    paths: HashMap<u64, PathBuf>,
    inodes: HashMap<PathBuf, u64>,
    next_inode: u64,
    /// Files written to (or opened) since the mount, by path below the root.
    files: HashMap<PathBuf, FileCache>,
    /// The path of the file written last, for a torn cut.
    last_written: Option<PathBuf>,
    pub syncs: u64,
}

impl State {
    pub fn new(below: PathBuf) -> State {
        let mut state = State {
            below,
            paths: HashMap::new(),
            inodes: HashMap::new(),
            next_inode: ROOT + 1,
            files: HashMap::new(),
            last_written: None,
            syncs: 0,
        };
        state.paths.insert(ROOT, PathBuf::new());
        state.inodes.insert(PathBuf::new(), ROOT);
        state
    }

    fn real(&self, path: &Path) -> PathBuf {
        self.below.join(path)
    }

    fn inode(&mut self, path: &Path) -> u64 {
        if let Some(&inode) = self.inodes.get(path) {
            return inode;
        }
        let inode = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(path.to_path_buf(), inode);
        self.paths.insert(inode, path.to_path_buf());
        inode
    }

    fn path(&self, inode: u64) -> Option<PathBuf> {
        self.paths.get(&inode).cloned()
    }

    fn child(&self, parent: u64, name: &OsStr) -> Option<PathBuf> {
        self.paths.get(&parent).map(|p| p.join(name))
    }

    fn cache(&mut self, path: &Path) -> std::io::Result<&mut FileCache> {
        if !self.files.contains_key(path) {
            let durable = fs::read(self.real(path))?;
            self.files.insert(path.to_path_buf(), FileCache::loaded(durable));
        }
        Ok(self.files.get_mut(path).expect("just inserted"))
    }

    fn attr(&mut self, path: &Path) -> std::io::Result<FileAttr> {
        let meta = fs::symlink_metadata(self.real(path))?;
        let inode = self.inode(path);
        let size = self.files.get(path).map_or(meta.len(), FileCache::len);
        let kind = if meta.is_dir() { FileType::Directory } else { FileType::RegularFile };
        let time = |seconds: i64| UNIX_EPOCH + Duration::from_secs(seconds.max(0) as u64);
        Ok(FileAttr {
            ino: inode,
            size,
            blocks: size.div_ceil(512),
            atime: time(meta.atime()),
            mtime: time(meta.mtime()),
            ctime: time(meta.ctime()),
            crtime: time(meta.ctime()),
            kind,
            perm: (meta.permissions().mode() & 0o7777) as u16,
            nlink: meta.nlink() as u32,
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    /// Writes what `path` holds beyond its durable content below, and syncs it there.
    fn sync(&mut self, path: &Path) -> std::io::Result<()> {
        let real = self.real(path);
        let Some(cache) = self.files.get_mut(path) else { return Ok(()) };
        if cache.is_dirty() {
            let persist = cache.to_persist();
            let file = OpenOptions::new().write(true).open(&real)?;
            file.set_len(persist.len)?;
            for (offset, data) in &persist.ranges {
                file.write_all_at(data, *offset)?;
            }
            file.sync_data()?;
            cache.synced();
        }
        self.syncs += 1;
        Ok(())
    }

    /// The power is cut: nothing unsynced reaches the disk below, except, with `tear`, the
    /// first half of the last write (a sector that made it, the next that did not).
    pub fn cut(&mut self, tear: bool) -> std::io::Result<usize> {
        let mut torn = 0;
        if let (true, Some(path)) = (tear, self.last_written.clone())
            && let Some((offset, data)) = self.files.get(&path).and_then(|cache| cache.torn(cache.last_write_len() / 2))
            && !data.is_empty()
        {
            let file = OpenOptions::new().write(true).open(self.real(&path))?;
            file.write_all_at(&data, offset)?;
            file.sync_data()?;
            torn = data.len();
        }
        self.files.clear();
        Ok(torn)
    }
}

/// The FUSE side of [`State`].
pub struct PowerLossFs(pub Arc<Mutex<State>>);

impl PowerLossFs {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn errno(error: &std::io::Error) -> i32 {
    error.raw_os_error().unwrap_or(libc::EIO)
}

impl Filesystem for PowerLossFs {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let mut state = self.state();
        let Some(path) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        match state.attr(&path) {
            Ok(attr) => reply.entry(&TTL, &attr, 0),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        match state.attr(&path) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(error) => reply.error(errno(&error)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn setattr(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        let changed = (|| {
            if let Some(mode) = mode {
                fs::set_permissions(state.real(&path), fs::Permissions::from_mode(mode & 0o7777))?;
            }
            if let Some(size) = size {
                state.cache(&path)?.truncate(size);
            }
            state.attr(&path)
        })();
        match changed {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn mkdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, mode: u32, _umask: u32, reply: ReplyEntry) {
        let mut state = self.state();
        let Some(path) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        let made = fs::create_dir(state.real(&path))
            .and_then(|()| fs::set_permissions(state.real(&path), fs::Permissions::from_mode(mode & 0o7777)))
            .and_then(|()| state.attr(&path));
        match made {
            Ok(attr) => reply.entry(&TTL, &attr, 0),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn unlink(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut state = self.state();
        let Some(path) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        match fs::remove_file(state.real(&path)) {
            Ok(()) => {
                state.files.remove(&path);
                if let Some(inode) = state.inodes.remove(&path) {
                    state.paths.remove(&inode);
                }
                reply.ok()
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn rmdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let state = self.state();
        let Some(path) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        match fs::remove_dir(state.real(&path)) {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(errno(&error)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rename(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        _flags: u32,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        let (Some(from), Some(to)) = (state.child(parent, name), state.child(newparent, newname)) else {
            return reply.error(libc::ENOENT);
        };
        // What the file holds unsynced goes with it; the rename itself is durable at once.
        if let Err(error) = state.sync(&from).and_then(|()| fs::rename(state.real(&from), state.real(&to))) {
            return reply.error(errno(&error));
        }
        if let Some(cache) = state.files.remove(&from) {
            state.files.insert(to.clone(), cache);
        }
        state.files.remove(&from);
        if let Some(old) = state.inodes.remove(&to) {
            state.paths.remove(&old);
        }
        if let Some(inode) = state.inodes.remove(&from) {
            state.inodes.insert(to.clone(), inode);
            state.paths.insert(inode, to);
        }
        reply.ok()
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        match state.cache(&path) {
            Ok(_) => reply.opened(0, 0),
            Err(error) => reply.error(errno(&error)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut state = self.state();
        let Some(path) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        let made = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(mode & 0o7777)
            .open(state.real(&path))
            .and_then(|file: File| file.sync_all())
            .and_then(|()| {
                state.files.remove(&path);
                state.cache(&path).map(|_| ())
            })
            .and_then(|()| state.attr(&path));
        match made {
            Ok(attr) => reply.created(&TTL, &attr, 0, 0, 0),
            Err(error) => reply.error(errno(&error)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn read(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        match state.cache(&path) {
            Ok(cache) => reply.data(cache.read(offset.max(0) as u64, size as usize)),
            Err(error) => reply.error(errno(&error)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        match state.cache(&path) {
            Ok(cache) => {
                cache.write(offset.max(0) as u64, data);
                state.last_written = Some(path);
                reply.written(data.len() as u32)
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn flush(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _lock_owner: u64, reply: ReplyEmpty) {
        // close() is not a sync: what was written stays unsynced.
        reply.ok()
    }

    fn fsync(&mut self, _req: &Request<'_>, ino: u64, _fh: u64, _datasync: bool, reply: ReplyEmpty) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        match state.sync(&path) {
            Ok(()) => reply.ok(),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn fsyncdir(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _datasync: bool, reply: ReplyEmpty) {
        // Directory entries went below at once (see the module's comment).
        reply.ok()
    }

    fn readdir(&mut self, _req: &Request<'_>, ino: u64, _fh: u64, offset: i64, mut reply: ReplyDirectory) {
        let mut state = self.state();
        let Some(path) = state.path(ino) else { return reply.error(libc::ENOENT) };
        let entries = match fs::read_dir(state.real(&path)) {
            Ok(entries) => entries,
            Err(error) => return reply.error(errno(&error)),
        };
        let mut listed: Vec<(u64, FileType, std::ffi::OsString)> =
            vec![(ino, FileType::Directory, ".".into()), (ino, FileType::Directory, "..".into())];
        for entry in entries.flatten() {
            let kind =
                if entry.file_type().is_ok_and(|t| t.is_dir()) { FileType::Directory } else { FileType::RegularFile };
            let child = path.join(entry.file_name());
            listed.push((state.inode(&child), kind, entry.file_name()));
        }
        for (index, (inode, kind, name)) in listed.into_iter().enumerate().skip(offset.max(0) as usize) {
            if reply.add(inode, (index + 1) as i64, kind, name) {
                break;
            }
        }
        reply.ok()
    }

    fn access(&mut self, _req: &Request<'_>, _ino: u64, _mask: i32, reply: ReplyEmpty) {
        reply.ok()
    }
}
