//! The objects seatcore hands to C (clients, holds, pages, ...): made with [`new`], read by
//! accessors through [`get`], [`text`], [`optional_text`] and [`text_at`], which answer 0,
//! false or NULL for a NULL object, and freed with [`free`].

use std::ffi::{c_char, CStr, CString};

use crate::error::{guard, NO_STRING};

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

/// A value read from an object; `V::default()` (0, false) when `p` is NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T`.
pub(crate) unsafe fn get<T, V: Default>(p: *const T, read: impl FnOnce(&T) -> V) -> V {
    p.as_ref().map_or_else(V::default, read)
}

/// A string borrowed from an object (valid until it is freed); NULL when `p` is NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T`.
pub(crate) unsafe fn text<'a, T: 'a>(p: *const T, read: impl FnOnce(&'a T) -> &'a CStr) -> *const c_char {
    optional_text(p, |object| Some(read(object)))
}

/// A string an object may lack, borrowed from it; NULL when it has none or `p` is NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T`.
pub(crate) unsafe fn optional_text<'a, T: 'a>(
    p: *const T,
    read: impl FnOnce(&'a T) -> Option<&'a CStr>,
) -> *const c_char {
    p.as_ref().and_then(read).map_or(NO_STRING, CStr::as_ptr)
}

/// The `index`-th string of a list of an object, borrowed from it; NULL when `p` is NULL or
/// `index` is out of range.
///
/// # Safety
/// `p` is NULL or points to a live `T`.
pub(crate) unsafe fn text_at<'a, T: 'a>(
    p: *const T,
    index: usize,
    list: impl FnOnce(&'a T) -> &'a [CString],
) -> *const c_char {
    optional_text(p, |object| list(object).get(index).map(CString::as_c_str))
}
