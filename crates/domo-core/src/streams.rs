//! Streams (Domo's connectors feeding a dataset). Their endpoints come in a later change;
//! the handle exists so that `Client::stream` has a stable shape.

use crate::client::Client;

/// A Domo stream, addressed by its numeric id.
#[derive(Debug, Clone)]
pub struct Stream {
    #[allow(dead_code)]
    pub(crate) client: Client,
    pub(crate) id: u64,
}

impl Stream {
    pub(crate) fn new(client: Client, id: u64) -> Stream {
        Stream { client, id }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}
