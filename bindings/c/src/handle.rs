//! The objects seatcore hands to C.
//!
//! Handles (client, watch, sweeper) are opaque: made with [`new`], freed with [`free`].
//! Result objects (holds, pages, errors, ...) are `#[repr(C)]` views that C reads by their
//! fields: [`object`] builds one from a [`Store`] that owns every string and array the view
//! points into, and [`free_object`] frees both.

use std::ffi::{c_char, CString};

use crate::args::seatcore_seats;
use crate::error::{cstring, guard, NO_STRING};

/// A new object for C: the caller owns it and frees it with its `_free` function, which
/// calls [`free`].
pub(crate) fn new<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees an object made by [`new`]; NULL is a no-op. Dropping it (which closes the
/// connections of a client or a watch) runs behind [`guard`]: a panic does not cross into C.
///
/// # Safety
/// `p` is NULL or an object made by [`new`], not freed yet, that no other thread uses.
pub(crate) unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        let object = Box::from_raw(p);
        guard((), || drop(object));
    }
}

/// A struct C reads by its fields; `Item` is the type of the array it points to, if any
/// (the seats of a status, the changes of a page), `()` otherwise.
pub(crate) trait View {
    type Item;
}

/// The heap storage a view points into: its strings, its lists of strings and its array of
/// items. Moving the store moves none of these (they live in their own heap blocks), so the
/// view's pointers stay valid for as long as the store lives.
pub(crate) struct Store<I> {
    strings: Vec<CString>,
    lists: Vec<Vec<*const c_char>>,
    items: Vec<I>,
}

impl<I> Store<I> {
    pub(crate) fn new() -> Store<I> {
        Store { strings: Vec::new(), lists: Vec::new(), items: Vec::new() }
    }

    /// Keeps `s` as a C string; its address.
    pub(crate) fn text(&mut self, s: String) -> *const c_char {
        let s = cstring(s);
        let p = s.as_ptr();
        self.strings.push(s);
        p
    }

    /// Keeps `s` as a C string; its address, or NULL for `None`.
    pub(crate) fn optional_text(&mut self, s: Option<String>) -> *const c_char {
        s.map_or(NO_STRING, |s| self.text(s))
    }

    /// Keeps the strings of a list and the array of their addresses; the array's address
    /// and length.
    pub(crate) fn list(&mut self, items: Vec<String>) -> (*const *const c_char, usize) {
        let list: Vec<*const c_char> = items.into_iter().map(|s| self.text(s)).collect();
        let view = (list.as_ptr(), list.len());
        self.lists.push(list);
        view
    }

    /// Keeps a list of seat ids; the list as C reads it.
    pub(crate) fn seats(&mut self, ids: Vec<String>) -> seatcore_seats {
        let (ids, count) = self.list(ids);
        seatcore_seats { ids, count }
    }

    /// Keeps the view's array of items (once per store); its address and length.
    pub(crate) fn items(&mut self, items: Vec<I>) -> (*const I, usize) {
        debug_assert!(self.items.is_empty(), "a store keeps one array of items");
        self.items = items;
        (self.items.as_ptr(), self.items.len())
    }
}

/// A view and the store it points into. The view comes first: a pointer to the view is a
/// pointer to the whole, which is how [`free_object`] finds the store.
#[repr(C)]
pub(crate) struct Owned<V: View> {
    view: V,
    store: Store<V::Item>,
}

// SAFETY: the view's pointers point only into its own store (or to static strings), and
// neither changes after [`object`] made them: the object is immutable until it is freed,
// so it may be read from several threads and freed on any one.
unsafe impl<V: View> Send for Owned<V> {}
unsafe impl<V: View> Sync for Owned<V> {}

/// A new result object for C: `build` makes the view, keeping what it points to in the
/// store. The caller owns it and frees it with its `_free` function, which calls
/// [`free_object`].
pub(crate) fn object<V: View>(build: impl FnOnce(&mut Store<V::Item>) -> V) -> *mut V {
    let mut store = Store::new();
    let view = build(&mut store);
    new(Owned { view, store }).cast()
}

/// Frees an object made by [`object`] and everything its view points into; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or an object made by [`object`] for this `V`, not freed yet, that no other
/// thread uses.
pub(crate) unsafe fn free_object<V: View>(p: *mut V) {
    free(p.cast::<Owned<V>>())
}
