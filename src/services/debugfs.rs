// SPDX-License-Identifier: GPL-2.0

//! debugfs files that hold the module while they are open.
//!
//! The kernel crate of 7.3 (`kernel::debugfs`) builds its `file_operations` with a NULL
//! `owner`, so an open file does not pin the module: `rmmod` succeeds, and the `close()` that
//! follows runs `full_proxy_release()` on the freed module's `file_operations`, an Oops. These
//! files use the same stock `seq_file` operations with `owner` set to the module: while one is
//! open, `rmmod` is refused as for any module in use, and after the last `close()` it works.
//! Without a way to set `owner` through `kernel::debugfs`, the operations are built here from
//! the bindings (no C is needed: everything called is an exported function).
//!
//! The operations are two statics of the module, not per directory: a file may be closed after
//! its [`Files`] is gone, and debugfs's proxy then calls `release`, and reads `owner`, through
//! them with no protection against removal (`full_proxy_release()`). Only the module's own
//! memory lives as long as that, since an open file pins the module. So they serve every type:
//! a file's `i_private` starts with the type-erased call that reaches its `T`.

use core::{
    fmt, ptr,
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_void},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    str::CStr,
    types::Opaque,
    uaccess::{UserPtr, UserSlice, UserSliceReader},
};

/// What a read of a file prints.
pub(crate) type ShowFn<T> = fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result;

/// What a write to a file does with the bytes written.
pub(crate) type StoreFn<T> = fn(&T, &mut UserSliceReader) -> Result;

/// The start of a read-only file's `i_private`: how to print it, whatever its `T`.
#[repr(C)]
struct ShowEntry {
    /// Prints the [`ShowFile`] that starts with this entry.
    print: unsafe fn(*const ShowEntry, &mut fmt::Formatter<'_>) -> fmt::Result,
}

/// The `i_private` of a read-only file.
#[repr(C)]
struct ShowFile<T> {
    entry: ShowEntry,
    data: *const T,
    show: ShowFn<T>,
}

/// The start of a write-only file's `i_private`: how to store a write, whatever its `T`.
#[repr(C)]
struct StoreEntry {
    /// Stores a write through the [`StoreFile`] that starts with this entry.
    store: unsafe fn(*const StoreEntry, &mut UserSliceReader) -> Result,
}

/// The `i_private` of a write-only file.
#[repr(C)]
struct StoreFile<T> {
    entry: StoreEntry,
    data: *const T,
    store: StoreFn<T>,
}

/// # Safety
///
/// `entry` must start a live `ShowFile<T>` whose `data` is live.
unsafe fn print_file<T>(entry: *const ShowEntry, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // SAFETY: As the caller promises; `ShowFile` is `repr(C)` with the entry first.
    let file = unsafe { &*entry.cast::<ShowFile<T>>() };
    // SAFETY: As the caller promises.
    (file.show)(unsafe { &*file.data }, f)
}

/// # Safety
///
/// `entry` must start a live `StoreFile<T>` whose `data` is live.
unsafe fn store_file<T>(entry: *const StoreEntry, reader: &mut UserSliceReader) -> Result {
    // SAFETY: As the caller promises; `StoreFile` is `repr(C)` with the entry first.
    let file = unsafe { &*entry.cast::<StoreFile<T>>() };
    // SAFETY: As the caller promises.
    (file.store)(unsafe { &*file.data }, reader)
}

/// Files of this module open now, counted by their `open` and `release` (for tests).
static OPEN_FILES: AtomicUsize = AtomicUsize::new(0);

/// Files of this module open now.
pub(crate) fn open_files() -> usize {
    OPEN_FILES.load(Ordering::Acquire)
}

// Only its address is taken: that `struct module` holds a field type with no Rust fields does
// not matter.
#[allow(improper_ctypes)]
extern "C" {
    /// This module, as `THIS_MODULE` names it in C.
    static __this_module: Opaque<bindings::module>;
}

/// File operations in a static.
#[repr(transparent)]
struct StaticOps(bindings::file_operations);

// SAFETY: Never written; its pointers are to functions and to this module, shared by design.
unsafe impl Sync for StaticOps {}

/// The operations of the two kinds of file, with this module as their `owner`.
static SHOW_OPS: StaticOps = StaticOps(bindings::file_operations {
    owner: (&raw const __this_module).cast_mut().cast(),
    open: Some(show_open),
    read: Some(bindings::seq_read),
    llseek: Some(bindings::seq_lseek),
    release: Some(show_release),
    // SAFETY: All-zero is a valid `file_operations`: no operation, NULL pointers.
    ..unsafe { core::mem::zeroed() }
});

static STORE_OPS: StaticOps = StaticOps(bindings::file_operations {
    owner: (&raw const __this_module).cast_mut().cast(),
    open: Some(store_open),
    write: Some(store_write),
    llseek: Some(bindings::noop_llseek),
    release: Some(store_release),
    // SAFETY: As above.
    ..unsafe { core::mem::zeroed() }
});

/// A debugfs directory whose files serve one `T`, which it owns.
///
/// # Examples
///
/// ```ignore
/// let files = Files::new(c"bhlock", KBox::pin(Counter::new(), GFP_KERNEL)?)?
///     .show(c"count", |c, f| writeln!(f, "{}", c.get()))?
///     .store(c"reset", |c, _| Ok(c.reset()))?;
/// ```
///
/// # Invariants
///
/// `dir` is a debugfs directory created by [`Files::new`] and removed only by `drop`. Each
/// file in it has the operations of `SHOW_OPS` or `STORE_OPS` and, as `i_private`, an element
/// of `shows` or `stores` whose `data` is `&*data`. The elements of `shows` and `stores` (each
/// boxed, so they do not move) and `data` stay in place until `drop` has removed `dir`, and
/// `debugfs_remove()` waits for every call into the files that is in flight.
pub(crate) struct Files<T: Sync> {
    dir: *mut bindings::dentry,
    shows: KVec<KBox<ShowFile<T>>>,
    stores: KVec<KBox<StoreFile<T>>>,
    data: Pin<KBox<T>>,
}

// SAFETY: `Files` owns a `T` (it moves with it) and a debugfs directory, which may be removed
// from any task; the raw pointers point to what it owns.
unsafe impl<T: Sync + Send> Send for Files<T> {}
// SAFETY: `&Files` gives only `&T`; the files' callbacks, which run in any task, also get
// only `&T`, and `T: Sync`.
unsafe impl<T: Sync> Sync for Files<T> {}

impl<T: Sync + 'static> Files<T> {
    /// Creates the directory `name` at the debugfs root, for files that serve `data`; while
    /// one of them is open, this module cannot be unloaded.
    ///
    /// `T: 'static`: a `Files` that is leaked (`mem::forget`) is never removed, so its files
    /// may be read for ever; data that borrowed from a stack frame would be read after that
    /// frame is gone.
    pub(crate) fn new(name: &CStr, data: Pin<KBox<T>>) -> Result<Self> {
        // SAFETY: `name` is a C string; a NULL parent is the debugfs root.
        let dir = from_err_ptr(unsafe {
            bindings::debugfs_create_dir(name.as_char_ptr(), ptr::null_mut())
        })?;
        // INVARIANT: `dir` was just created, and has no files yet.
        Ok(Self {
            dir,
            shows: KVec::new(),
            stores: KVec::new(),
            data,
        })
    }

    /// Adds a file `name` (mode 0400) whose reads print `show(data)`.
    pub(crate) fn show(mut self, name: &CStr, show: ShowFn<T>) -> Result<Self> {
        let file = KBox::new(
            ShowFile {
                entry: ShowEntry {
                    print: print_file::<T>,
                },
                data: &*self.data,
                show,
            },
            GFP_KERNEL,
        )?;
        let private = ptr::from_ref(&*file).cast_mut().cast();
        // Kept before the file exists, so that it outlives the file whatever fails.
        self.shows.push(file, GFP_KERNEL)?;
        // SAFETY: `private` is a `ShowFile<T>` serving `self.data`, which stays in place until
        // `dir` is removed (the type invariant), as `SHOW_OPS` expects.
        unsafe { self.create(name, 0o400, private, &SHOW_OPS) }?;
        Ok(self)
    }

    /// Adds a file `name` (mode 0200) whose writes call `store(data, bytes written)`; a write
    /// returns its length if `store` succeeds, else its error.
    pub(crate) fn store(mut self, name: &CStr, store: StoreFn<T>) -> Result<Self> {
        let file = KBox::new(
            StoreFile {
                entry: StoreEntry {
                    store: store_file::<T>,
                },
                data: &*self.data,
                store,
            },
            GFP_KERNEL,
        )?;
        let private = ptr::from_ref(&*file).cast_mut().cast();
        // Kept before the file exists, so that it outlives the file whatever fails.
        self.stores.push(file, GFP_KERNEL)?;
        // SAFETY: `private` is a `StoreFile<T>` serving `self.data`, which stays in place
        // until `dir` is removed (the type invariant), as `STORE_OPS` expects.
        unsafe { self.create(name, 0o200, private, &STORE_OPS) }?;
        Ok(self)
    }

    /// Creates the file `name` in `dir`.
    ///
    /// # Safety
    ///
    /// `private` must be what `ops` expects as `i_private`, and must stay in place until `dir`
    /// is removed.
    unsafe fn create(
        &self,
        name: &CStr,
        mode: u16,
        private: *mut c_void,
        ops: &'static StaticOps,
    ) -> Result {
        // SAFETY: `name` is a C string, `dir` a directory (the type invariant); the caller
        // keeps `private` valid for the file's life, and `ops` is static.
        from_err_ptr(unsafe {
            bindings::debugfs_create_file_full(
                name.as_char_ptr(),
                mode,
                self.dir,
                private,
                ptr::null(),
                &ops.0,
            )
        })?;
        Ok(())
    }
}

impl<T: Sync> core::ops::Deref for Files<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: Sync> Drop for Files<T> {
    fn drop(&mut self) {
        // SAFETY: `dir` is a directory created by `new` and not removed yet (the type
        // invariant). The removal waits for the calls into its files in flight; the fields it
        // points into are dropped only after this. A file still open reaches only the static
        // operations from now on (its `release`).
        unsafe { bindings::debugfs_remove(self.dir) };
    }
}

/// Prints a read-only file's `i_private`.
struct Printed(*const ShowEntry);

// `seq_print!` formats through the kernel's own `Display`.
impl kernel::fmt::Display for Printed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: `self.0` starts a `ShowFile` of a `Files` that outlives every call into its
        // files (`show_seq`), and its `print` is the one for its type.
        unsafe { ((*self.0).print)(self.0, f) }
    }
}

/// `open` of a read-only file: a `seq_file` that prints the inode's [`ShowFile`].
///
/// # Safety
///
/// Called by the VFS (through debugfs's proxy) on an inode of a read-only [`Files`] file.
unsafe extern "C" fn show_open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `inode` is valid; its `i_private` is a `ShowFile` (the `Files` invariant).
    let private = unsafe { (*inode).i_private };
    // SAFETY: `file` is being opened; `show_seq` gets `private` as the `seq_file`'s private.
    let ret = unsafe { bindings::single_open(file, Some(show_seq), private) };
    if ret == 0 {
        OPEN_FILES.fetch_add(1, Ordering::AcqRel);
    }
    ret
}

/// `release` of a read-only file.
///
/// # Safety
///
/// Called by the VFS on a file that [`show_open`] opened.
unsafe extern "C" fn show_release(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `file` was opened by `single_open`, as the caller promises.
    let ret = unsafe { bindings::single_release(inode, file) };
    OPEN_FILES.fetch_sub(1, Ordering::AcqRel);
    ret
}

/// `open` of a write-only file: `simple_open`, counted.
///
/// # Safety
///
/// Called by the VFS (through debugfs's proxy) on an inode of a write-only [`Files`] file.
unsafe extern "C" fn store_open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: As the caller promises.
    let ret = unsafe { bindings::simple_open(inode, file) };
    if ret == 0 {
        OPEN_FILES.fetch_add(1, Ordering::AcqRel);
    }
    ret
}

/// `release` of a write-only file.
///
/// # Safety
///
/// Called by the VFS on a file that [`store_open`] opened.
unsafe extern "C" fn store_release(_: *mut bindings::inode, _: *mut bindings::file) -> c_int {
    OPEN_FILES.fetch_sub(1, Ordering::AcqRel);
    0
}

/// `show` of the `seq_file` of a read-only file.
///
/// # Safety
///
/// `seq` must be a `seq_file` opened by [`show_open`].
unsafe extern "C" fn show_seq(seq: *mut bindings::seq_file, _: *mut c_void) -> c_int {
    // SAFETY: `show_open` made `private` a `ShowFile`, which outlives this call (debugfs's
    // proxy calls in only while the file is not removed).
    let entry = unsafe { (*seq).private.cast::<ShowEntry>().cast_const() };
    // SAFETY: `seq` is a live `seq_file`.
    seq_print!(unsafe { SeqFile::from_raw(seq) }, "{}", Printed(entry));
    0
}

/// `write` of a write-only file.
///
/// # Safety
///
/// `file` must have been opened by [`store_open`] on a write-only [`Files`] file, and `buf`
/// must be a user pointer to `count` bytes.
unsafe extern "C" fn store_write(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `simple_open` copied the inode's `i_private`, a `StoreFile` (the `Files`
    // invariant) that outlives this call (the proxy calls in only while it is not removed).
    let entry = unsafe { (*file).private_data.cast::<StoreEntry>().cast_const() };
    let mut reader = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), count).reader();
    // SAFETY: `entry` starts a live `StoreFile` whose `store` is the one for its type.
    match unsafe { ((*entry).store)(entry, &mut reader) } {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
