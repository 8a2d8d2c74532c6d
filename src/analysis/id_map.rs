//! [`IdMap`]: values by component id in file order, serialized as a JSON object. The analysis
//! parts (Little's law, capacity, health) and the whole [`super::Analysis`] key their figures by
//! node with it, so it sits below all of them.

use serde::Serialize;
use serde::ser::SerializeMap;

/// Values by component id, in file order; serialized as a JSON object (like the results'
/// `nodes`), so a figure's path reads `capacity.inventory.recommendation…`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdMap<T>(pub Vec<(String, T)>);

impl<T> IdMap<T> {
    /// The value for this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&T> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, v)| v)
    }

    /// Ids and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(i, v)| (i.as_str(), v))
    }
}

impl<T: Serialize> Serialize for IdMap<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (id, v) in &self.0 {
            map.serialize_entry(id, v)?;
        }
        map.end()
    }
}
