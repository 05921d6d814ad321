//! Seat maps, blocked seats and best-available holds.

use std::ffi::{c_char, c_void, CStr};

use seatcore_core::seat_map::{MapEntry, MapSeat};
use seatcore_core::{validate, BestFilters, InputError};

use crate::error::{seatcore_error, seatcore_result, Failure};
use crate::handle::{self, Store, View};
use crate::results::seatcore_hold;
use crate::{args, seatcore_client, seatcore_seats};

/// One seat of a structured seat map: as `seatcore_initialize_map` takes it, and as
/// `seatcore_seat_map` reads it back (`map->seats[i]`).
///
/// - `seat_id`: required.
/// - `section`, `category`: NULL for none ("").
/// - `row`: NULL for a seat in no row (a box, a standing place: ranked after every row);
///   otherwise `position` (0 to 2147483647) is its place in the row: seats of one section and row
///   whose positions differ by 1 are side by side. `position` is ignored without a row.
/// - `place_from_id`: when true and `row` is NULL, the row and position come from the seat
///   id as for `seatcore_initialize_show` (`"A12"`: row A, position 12).
/// - `accessible`: an accessible seat (wheelchair place).
/// - `has_rank`, `rank`: with `has_rank`, the seat's rank (finite; lower is better);
///   without, the default: front rows first (in map order), then nearer the row's middle.
///
/// Start from a zeroed seat (`seatcore_map_seat s = {0};`: no section, row, category or
/// rank) and set what you need.
///
/// Read back from a map, every field is settled: `section` and `category` are "" for none,
/// `row` is NULL and `position` -1 for a seat in no row, `place_from_id` is false and
/// `has_rank` true with the seat's rank; the strings are owned by the map object (valid
/// until it is freed, never to be freed by the caller). A map read back may be given to
/// `seatcore_initialize_map` as it is (`*map`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_map_seat {
    pub seat_id: *const c_char,
    pub section: *const c_char,
    pub row: *const c_char,
    pub position: i64,
    pub category: *const c_char,
    pub accessible: bool,
    pub place_from_id: bool,
    pub has_rank: bool,
    pub rank: f64,
}

/// Which seats a best-available hold may take. Every field is optional: NULL (or
/// `SEATCORE_ANY`) does not filter.
///
/// - `category`, `section`: only seats of this category / section (a name the show does not
///   have gives `SEATCORE_NO_ADJACENT_SEATS`).
/// - `accessible`: `SEATCORE_ANY` (-1), `SEATCORE_NOT_ACCESSIBLE` (0) or
///   `SEATCORE_ACCESSIBLE_ONLY` (1).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_best_filters {
    pub category: *const c_char,
    pub section: *const c_char,
    pub accessible: i32,
}

/// `seatcore_best_filters.accessible`: any seat.
pub const SEATCORE_ANY: i32 = -1;
/// `seatcore_best_filters.accessible`: seats that are not accessible.
pub const SEATCORE_NOT_ACCESSIBLE: i32 = 0;
/// `seatcore_best_filters.accessible`: accessible seats only.
pub const SEATCORE_ACCESSIBLE_ONLY: i32 = 1;

/// A show's seat map: its seats, in map order.
///
/// Read back by `seatcore_seat_map`: the caller owns that object and frees it with
/// `seatcore_map_free`; every string and seat it points to is owned by it. Immutable:
/// several threads may read it at once.
///
/// Given to `seatcore_initialize_map` by value: the caller's seats, read only during the
/// call (such a map is the caller's own, never given to `seatcore_map_free`). A map read back
/// may be given as it is: `seatcore_initialize_map(client, "copy", *map, NULL, &err)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seatcore_map {
    /// The show's `seat_count` seats, in map order.
    pub seats: *const seatcore_map_seat,
    pub seat_count: usize,
}

impl View for seatcore_map {
    type Item = seatcore_map_seat;
}

/// One seat of a map as C reads it, its strings kept in `store`.
fn entry(store: &mut Store<seatcore_map_seat>, e: MapEntry) -> seatcore_map_seat {
    seatcore_map_seat {
        seat_id: store.text(e.seat_id),
        section: store.text(e.section),
        row: store.optional_text(e.row),
        position: e.position.map_or(-1, i64::from),
        category: store.text(e.category),
        accessible: e.accessible,
        place_from_id: false,
        has_rank: true,
        rank: e.rank,
    }
}

/// An optional NUL-terminated UTF-8 string field of the seat at `index`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
unsafe fn field(p: *const c_char, index: usize, field: &'static str) -> Result<Option<String>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    match CStr::from_ptr(p).to_str() {
        Ok(s) => Ok(Some(s.to_owned())),
        Err(_) => Err(Failure::new(
            seatcore_result::SEATCORE_INVALID_UTF8,
            format!("seats[{index}].{field} is not valid UTF-8"),
        )
        .at(index)),
    }
}

/// The seats of a map argument, the count checked against the core's limit before the array
/// is touched.
///
/// # Safety
/// `map.seats` is NULL or points to `map.seat_count` seats whose strings are NULL or
/// NUL-terminated.
unsafe fn map_seats(map: seatcore_map) -> Result<Vec<MapSeat>, Failure> {
    validate::seat_count(map.seat_count, validate::MAX_SEATS_PER_SHOW)
        .map_err(|e| Failure::from(seatcore_core::Error::from(e)))?;
    if map.seats.is_null() {
        return Err(Failure::null("map.seats"));
    }
    std::slice::from_raw_parts(map.seats, map.seat_count)
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let Some(seat_id) = field(s.seat_id, index, "seat_id")? else {
                return Err(Failure::null(&format!("seats[{index}].seat_id")).at(index));
            };
            let row = field(s.row, index, "row")?;
            let position = match (&row, s.position) {
                (None, _) => None,
                (Some(_), p) if p < 0 => {
                    return Err(Failure::from(seatcore_core::Error::from(InputError::SeatField {
                        index,
                        field: "position",
                        rule: "0 or more when row is given",
                    })))
                }
                (Some(_), p) => Some(p),
            };
            Ok(MapSeat {
                seat_id,
                section: field(s.section, index, "section")?,
                row,
                position,
                category: field(s.category, index, "category")?,
                accessible: Some(s.accessible),
                rank: s.has_rank.then_some(s.rank),
                derive_place: s.place_from_id,
            })
        })
        .collect()
}

/// Creates a show with a structured seat map: sections, rows, positions, categories,
/// accessibility and ranks.
///
/// - `client`, `show_id`: required.
/// - `map`: 1 to 500000 seats, in map order (see `seatcore_map_seat`), by value: the caller's
///   (`seatcore_map map = {seats, count};`) or one read back by `seatcore_seat_map` (`*map`).
///   Read only during the call.
/// - `out_seat_count`: optional; on success, when not NULL, receives the number of seats.
/// - `err`: optional; on failure, when not NULL, receives an error object to free. For a
///   seat that breaks a rule, `err->index` gives its index.
///
/// Fails with `SEATCORE_SHOW_EXISTS`, `SEATCORE_INVALID_INPUT` (empty or duplicate seat ids,
/// two seats at one place of a row, a negative position, a rank that is not finite, names
/// too long), `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code.
/// Nothing is written on failure. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_initialize_map(
    client: *const seatcore_client,
    show_id: *const c_char,
    map: seatcore_map,
    out_seat_count: *mut usize,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let seats = map_seats(map)?;
        args::put(out_seat_count, core.initialize_map(show_id, &seats)?);
        Ok(())
    })
}

/// Reads a show's seat map.
///
/// - `client`, `show_id`: required.
/// - `out`: required; on success `*out` is a new map the caller owns and frees with
///   `seatcore_map_free`. Untouched on failure.
///
/// Fails with `SEATCORE_SHOW_NOT_FOUND`, `SEATCORE_INVALID_INPUT` (bad show id),
/// `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_seat_map(
    client: *const seatcore_client,
    show_id: *const c_char,
    out: *mut *mut seatcore_map,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show_out(client, show_id, out, err, |core, show_id| {
        let map = core.seat_map(show_id)?;
        Ok(handle::object(|store| {
            let entries = map.seats.into_iter().map(|e| entry(store, e)).collect();
            let (seats, seat_count) = store.items(entries);
            seatcore_map { seats, seat_count }
        }))
    })
}

/// Receives one seat of `seatcore_seat_map_each`: `user_data` as given, and the seat.
///
/// `seat` and its strings are valid only during the call: copy what you keep. The callback
/// runs on the calling thread while a database connection is busy reading, so keep it
/// short; it must not unwind (no C++ exception may leave it) and must not `longjmp` out.
pub type seatcore_map_seat_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, seat: *const seatcore_map_seat)>;

/// Reads a show's seat map seat by seat, handing each to `callback` in map order (nothing
/// is collected: suits very large maps), every field settled as `seatcore_seat_map` reads
/// it back.
///
/// - `client`, `show_id`, `callback`: required. `user_data` is passed through untouched
///   (may be NULL).
/// - `out_seat_count`: optional; on success, when not NULL, receives the number of seats.
/// - `err`: optional.
///
/// On `SEATCORE_SHOW_NOT_FOUND` the callback is never called; on a database failure
/// mid-read it may have seen part of the map. Thread-safe (the callback runs on the calling
/// thread).
#[no_mangle]
pub unsafe extern "C" fn seatcore_seat_map_each(
    client: *const seatcore_client,
    show_id: *const c_char,
    callback: seatcore_map_seat_callback,
    user_data: *mut c_void,
    out_seat_count: *mut usize,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let hand = args::callback(callback, user_data)?;
        let count = core.seat_map_each(show_id, |seat| {
            let mut store = Store::new();
            hand(&entry(&mut store, seat.to_entry()));
        })?;
        args::put(out_seat_count, usize::try_from(count).unwrap_or(usize::MAX));
        Ok(())
    })
}

/// Frees a map and every string and seat it points to. NULL is a no-op. Must not race with
/// other uses of the same object; freeing it twice is undefined behaviour.
#[no_mangle]
pub unsafe extern "C" fn seatcore_map_free(map: *mut seatcore_map) {
    handle::free_object(map)
}

/// Blocks seats (house seats, broken seats), all or none: a blocked seat cannot be held
/// until it is unblocked, and a reset leaves it blocked. Blocking a blocked seat again is
/// fine (its reason is replaced).
///
/// - `client`, `show_id`: required.
/// - `seats`: 1 to 500000 NUL-terminated UTF-8 seat ids. Read only during the call.
/// - `reason`: optional (NULL for none): at most 200 characters, no control characters.
///
/// Fails with `SEATCORE_SHOW_NOT_FOUND`, `SEATCORE_INVALID_SEAT_IDS` (a seat not on the
/// map), `SEATCORE_SEATS_UNAVAILABLE` (some are held or booked: the error lists them),
/// `SEATCORE_INVALID_INPUT`, `SEATCORE_NULL_PARAMETER`, `SEATCORE_INVALID_UTF8`, or a
/// database code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_block_seats(
    client: *const seatcore_client,
    show_id: *const c_char,
    seats: seatcore_seats,
    reason: *const c_char,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let ids = args::seats(seats, validate::MAX_SEATS_PER_SHOW)?;
        core.block(show_id, &ids, args::optional_text(reason, "reason")?)?;
        Ok(())
    })
}

/// Unblocks seats, all or none (seats that are not blocked stay as they are).
///
/// Arguments and failures as `seatcore_block_seats`, without `reason` and
/// `SEATCORE_SEATS_UNAVAILABLE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn seatcore_unblock_seats(
    client: *const seatcore_client,
    show_id: *const c_char,
    seats: seatcore_seats,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::on_show(client, show_id, err, |core, show_id| {
        let ids = args::seats(seats, validate::MAX_SEATS_PER_SHOW)?;
        core.unblock(show_id, &ids)?;
        Ok(())
    })
}

/// Holds the best `count` seats side by side in one row that match `filters`, for `seconds`
/// (1 to 86400, by the database's clock): a block that leaves no lone seat between taken
/// seats when such a block exists, then the lowest rank sum. The hold is like any other
/// (book it, release it, let it expire); its seats come in position order.
///
/// - `client`, `show_id`: required.
/// - `count`: 1 to 50.
/// - `filters`: optional (NULL: any seat); see `seatcore_best_filters`.
/// - `request_key`: optional (NULL for none): with a key, a retry after a lost reply
///   returns the hold made under it, whatever `count` and `filters` it asks for (concurrent
///   calls with one key make one hold and all get it).
/// - `out`: required; on success `*out` is a new hold the caller owns and frees with
///   `seatcore_hold_free`. Untouched on failure.
///
/// Fails with `SEATCORE_NO_ADJACENT_SEATS` (no block fits now), `SEATCORE_SHOW_NOT_FOUND`,
/// `SEATCORE_INVALID_INPUT` (count, filters, duration, key), `SEATCORE_NULL_PARAMETER`,
/// `SEATCORE_INVALID_UTF8`, or a database code. Thread-safe: no seat is ever granted to two
/// callers.
#[no_mangle]
pub unsafe extern "C" fn seatcore_hold_best(
    client: *const seatcore_client,
    show_id: *const c_char,
    count: usize,
    filters: *const seatcore_best_filters,
    seconds: i64,
    request_key: *const c_char,
    out: *mut *mut seatcore_hold,
    err: *mut *mut seatcore_error,
) -> seatcore_result {
    args::hold(client, show_id, out, err, args::Wanted::Best(count, filters), seconds, request_key)
}

/// The core's filters from `seatcore_best_filters` (NULL: any seat).
pub(crate) unsafe fn best_filters(filters: Option<&seatcore_best_filters>) -> Result<BestFilters, Failure> {
    let Some(f) = filters else { return Ok(BestFilters::default()) };
    Ok(BestFilters {
        category: args::optional_text(f.category, "filters.category")?.map(str::to_owned),
        section: args::optional_text(f.section, "filters.section")?.map(str::to_owned),
        accessible: match f.accessible {
            SEATCORE_ANY => None,
            SEATCORE_NOT_ACCESSIBLE => Some(false),
            SEATCORE_ACCESSIBLE_ONLY => Some(true),
            _ => {
                return Err(Failure::from(seatcore_core::Error::from(InputError::Filter {
                    field: "accessible",
                    rule: "SEATCORE_ANY, SEATCORE_NOT_ACCESSIBLE or SEATCORE_ACCESSIBLE_ONLY",
                })))
            }
        },
    })
}
