//! Typed indices: which component or message a number means, checked by the compiler.
//!
//! Every runtime table of the engine is a [`Table`] indexed by its own id type, so a queue index
//! can never be used to look up a consumer. An id stores its index plus one in a `NonZeroU32`,
//! which makes `Option<Id>` four bytes (no sentinel values, no size cost in a message).

use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::ops::{Index, IndexMut};

/// An index into a [`Table`].
pub(crate) trait Id: Copy {
    /// The id of the `i`-th entry.
    fn from_index(i: usize) -> Self;
    /// The entry's position.
    fn index(self) -> usize;
}

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(NonZeroU32);

        impl Id for $name {
            #[inline]
            fn from_index(i: usize) -> Self {
                // Tables are bounded far below u32::MAX entries (validated counts, the message
                // guard), so the conversion cannot fail in a validated scenario.
                let raw = u32::try_from(i + 1).unwrap_or(u32::MAX);
                $name(NonZeroU32::new(raw).unwrap_or(NonZeroU32::MAX))
            }
            #[inline]
            fn index(self) -> usize {
                self.0.get() as usize - 1
            }
        }
    )*};
}

typed_id! {
    /// A component in file order (producers, buses, queues, streams, consumers): the row of
    /// its statistics and time series.
    NodeId;
    /// A producer.
    ProducerId;
    /// A bus.
    BusId;
    /// A rule target (numbered across all buses and rules).
    TargetId;
    /// A queue.
    QueueId;
    /// A stream.
    StreamId;
    /// A consumer.
    ConsumerId;
    /// A message copy in the slab.
    MsgId;
    /// A pair of copies of one SQS message (duplicates and visibility-timeout re-receives).
    DupId;
    /// A fault window.
    FaultId;
    /// A timeline entry.
    TimelineId;
    /// A consumer's slot (one concurrent batch).
    SlotId;
    /// A Step Functions state machine.
    MachineId;
}

/// A vector indexed by one id type.
pub(crate) struct Table<I, T> {
    items: Vec<T>,
    id: PhantomData<I>,
}

impl<I: Id, T> Table<I, T> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        Table {
            items: Vec::new(),
            id: PhantomData,
        }
    }

    /// An empty table with room for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Table {
            items: Vec::with_capacity(n),
            id: PhantomData,
        }
    }

    /// Appends an entry and returns its id.
    pub(crate) fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::from_index(self.items.len() - 1)
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The entries in order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The entries in order, mutably.
    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// Every id, in order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = I> + use<I, T> {
        (0..self.items.len()).map(I::from_index)
    }

    /// Ids and entries, in order.
    pub(crate) fn iter_ids(&self) -> impl Iterator<Item = (I, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, t)| (I::from_index(i), t))
    }

    /// The first id whose entry satisfies `f`.
    pub(crate) fn position(&self, f: impl Fn(&T) -> bool) -> Option<I> {
        self.items.iter().position(f).map(I::from_index)
    }
}

impl<I: Id, T> Index<I> for Table<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for Table<I, T> {
    #[inline]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

impl<I: Id, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        Table {
            items: iter.into_iter().collect(),
            id: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_options_cost_nothing() {
        let q = QueueId::from_index(7);
        assert_eq!(q.index(), 7);
        assert_eq!(std::mem::size_of::<Option<QueueId>>(), 4);
        let mut t: Table<QueueId, &str> = Table::new();
        let a = t.push("a");
        let b = t.push("b");
        assert_eq!((t[a], t[b]), ("a", "b"));
        assert_eq!(t.ids().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(t.position(|x| *x == "b"), Some(b));
    }
}
