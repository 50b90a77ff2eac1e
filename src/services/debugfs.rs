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

use core::{fmt, ops::Deref, ptr};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_void},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    str::CStr,
    uaccess::{UserPtr, UserSlice, UserSliceReader},
    ThisModule,
};

/// What a read of a file prints.
pub(crate) type ShowFn<T> = fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result;

/// What a write to a file does with the bytes written.
pub(crate) type StoreFn<T> = fn(&T, &mut UserSliceReader) -> Result;

/// The `i_private` of a read-only file.
struct ShowFile<T> {
    data: *const T,
    show: ShowFn<T>,
}

/// The `i_private` of a write-only file.
struct StoreFile<T> {
    data: *const T,
    store: StoreFn<T>,
}

/// The operations of the two kinds of file, with the module as their `owner`.
struct Ops {
    show: bindings::file_operations,
    store: bindings::file_operations,
}

/// A debugfs directory whose files serve one `T`, which it owns.
///
/// # Examples
///
/// ```ignore
/// let files = Files::new(c"bhlock", module, KBox::pin(Counter::new(), GFP_KERNEL)?)?
///     .show(c"count", |c, f| writeln!(f, "{}", c.get()))?
///     .store(c"reset", |c, _| Ok(c.reset()))?;
/// ```
///
/// # Invariants
///
/// `dir` is a debugfs directory created by [`Files::new`] and removed only by `drop`. Each
/// file in it has the operations of `ops` and, as `i_private`, an element of `shows` or
/// `stores` whose `data` is `&*data`. `ops`, the elements of `shows` and `stores` (each boxed,
/// so they do not move) and `data` stay in place until `drop` has removed `dir`, and
/// `debugfs_remove()` waits for every call into the files that is in flight.
pub(crate) struct Files<T: Sync> {
    dir: *mut bindings::dentry,
    ops: KBox<Ops>,
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

impl<T: Sync> Files<T> {
    /// Creates the directory `name` at the debugfs root, for files that serve `data`; while
    /// one of them is open, `module` cannot be unloaded.
    pub(crate) fn new(
        name: &CStr,
        module: &'static ThisModule,
        data: Pin<KBox<T>>,
    ) -> Result<Self> {
        let ops = KBox::new(
            Ops {
                show: bindings::file_operations {
                    owner: module.as_ptr(),
                    open: Some(show_open::<T>),
                    read: Some(bindings::seq_read),
                    llseek: Some(bindings::seq_lseek),
                    release: Some(bindings::single_release),
                    ..pin_init::zeroed()
                },
                store: bindings::file_operations {
                    owner: module.as_ptr(),
                    open: Some(bindings::simple_open),
                    write: Some(store_write::<T>),
                    llseek: Some(bindings::noop_llseek),
                    ..pin_init::zeroed()
                },
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `name` is a C string; a NULL parent is the debugfs root.
        let dir = from_err_ptr(unsafe {
            bindings::debugfs_create_dir(name.as_char_ptr(), ptr::null_mut())
        })?;
        // INVARIANT: `dir` was just created, and has no files yet.
        Ok(Self {
            dir,
            ops,
            shows: KVec::new(),
            stores: KVec::new(),
            data,
        })
    }

    /// Adds a file `name` (mode 0400) whose reads print `show(data)`.
    pub(crate) fn show(mut self, name: &CStr, show: ShowFn<T>) -> Result<Self> {
        let file = KBox::new(
            ShowFile {
                data: &*self.data,
                show,
            },
            GFP_KERNEL,
        )?;
        let private = ptr::from_ref(&*file).cast_mut().cast();
        // Kept before the file exists, so that it outlives the file whatever fails.
        self.shows.push(file, GFP_KERNEL)?;
        // SAFETY: `private` is a `ShowFile<T>` serving `self.data`, the operations are
        // `ops.show`, and both stay in place until `dir` is removed (the type invariant).
        unsafe { self.create(name, 0o400, private, &self.ops.show) }?;
        Ok(self)
    }

    /// Adds a file `name` (mode 0200) whose writes call `store(data, bytes written)`; a write
    /// returns its length if `store` succeeds, else its error.
    pub(crate) fn store(mut self, name: &CStr, store: StoreFn<T>) -> Result<Self> {
        let file = KBox::new(
            StoreFile {
                data: &*self.data,
                store,
            },
            GFP_KERNEL,
        )?;
        let private = ptr::from_ref(&*file).cast_mut().cast();
        // Kept before the file exists, so that it outlives the file whatever fails.
        self.stores.push(file, GFP_KERNEL)?;
        // SAFETY: `private` is a `StoreFile<T>` serving `self.data`, the operations are
        // `ops.store`, and both stay in place until `dir` is removed (the type invariant).
        unsafe { self.create(name, 0o200, private, &self.ops.store) }?;
        Ok(self)
    }

    /// Creates the file `name` in `dir`.
    ///
    /// # Safety
    ///
    /// `private` must be what `ops` expects as `i_private`, and both must stay in place until
    /// `dir` is removed.
    unsafe fn create(
        &self,
        name: &CStr,
        mode: u16,
        private: *mut c_void,
        ops: &bindings::file_operations,
    ) -> Result {
        // SAFETY: `name` is a C string, `dir` a directory (the type invariant); the caller
        // keeps `private` and `ops` valid for the file's life.
        from_err_ptr(unsafe {
            bindings::debugfs_create_file_full(
                name.as_char_ptr(),
                mode,
                self.dir,
                private,
                ptr::null(),
                ops,
            )
        })?;
        Ok(())
    }
}

impl<T: Sync> Deref for Files<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: Sync> Drop for Files<T> {
    fn drop(&mut self) {
        // SAFETY: `dir` is a directory created by `new` and not removed yet (the type
        // invariant). The removal waits for the calls into its files in flight; the fields it
        // points into are dropped only after this.
        unsafe { bindings::debugfs_remove(self.dir) };
    }
}

/// Prints a [`ShowFile`].
struct Printed<'a, T>(&'a ShowFile<T>);

// `seq_print!` formats through the kernel's own `Display`.
impl<T> kernel::fmt::Display for Printed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: `data` points into the `Files` that holds this `ShowFile`, which outlives
        // every call into its files.
        (self.0.show)(unsafe { &*self.0.data }, f)
    }
}

/// `open` of a read-only file: a `seq_file` that prints the inode's [`ShowFile`].
///
/// # Safety
///
/// Called by the VFS (through debugfs's proxy) on an inode of a read-only [`Files`] file.
unsafe extern "C" fn show_open<T>(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `inode` is valid; its `i_private` is a `ShowFile<T>` (the `Files` invariant).
    let private = unsafe { (*inode).i_private };
    // SAFETY: `file` is being opened; `show_seq` gets `private` as the `seq_file`'s private.
    unsafe { bindings::single_open(file, Some(show_seq::<T>), private) }
}

/// `show` of the `seq_file` of a read-only file.
///
/// # Safety
///
/// `seq` must be a `seq_file` opened by [`show_open`] for a `ShowFile<T>`.
unsafe extern "C" fn show_seq<T>(seq: *mut bindings::seq_file, _: *mut c_void) -> c_int {
    // SAFETY: `show_open` made `private` a `ShowFile<T>`, which outlives this call (debugfs's
    // proxy calls in only while the file is not removed).
    let file = unsafe { &*(*seq).private.cast::<ShowFile<T>>() };
    // SAFETY: `seq` is a live `seq_file`.
    seq_print!(unsafe { SeqFile::from_raw(seq) }, "{}", Printed(file));
    0
}

/// `write` of a write-only file.
///
/// # Safety
///
/// `file` must have been opened by `simple_open` on a write-only [`Files`] file, and `buf`
/// must be a user pointer to `count` bytes.
unsafe extern "C" fn store_write<T>(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `simple_open` copied the inode's `i_private`, a `StoreFile<T>` (the `Files`
    // invariant) that outlives this call (the proxy calls in only while it is not removed).
    let file = unsafe { &*(*file).private_data.cast::<StoreFile<T>>() };
    let mut reader = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), count).reader();
    // SAFETY: `data` points into the `Files` that holds `file`, which outlives this call.
    match (file.store)(unsafe { &*file.data }, &mut reader) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
