//! `BatchStream`: Arrow batches produced by a background task (an export, a paged query)
//! and handed over through a bounded channel, so memory stays flat and a consumer that
//! stops reading stops the producer.

use std::future::Future;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};

/// Batches produced ahead of the consumer, at most.
const BATCHES_AHEAD: usize = 2;

/// Where a producer puts its batches; a send fails once the consumer is gone.
pub(crate) type BatchSender = mpsc::Sender<Result<RecordBatch>>;

/// A stream of record batches. Dropping it stops the work behind it.
#[derive(Debug)]
pub struct BatchStream {
    schema: SchemaRef,
    batches: mpsc::Receiver<Result<RecordBatch>>,
    task: JoinHandle<()>,
}

impl Drop for BatchStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BatchStream {
    /// Runs `produce` on the runtime; its error, if any, is the stream's last item.
    pub(crate) fn spawn<F, Fut>(schema: SchemaRef, produce: F) -> BatchStream
    where
        F: FnOnce(BatchSender) -> Fut,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
        let work = produce(tx.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = work.await
                && !matches!(e, Error::Cancelled)
            {
                let _ = tx.send(Err(e)).await;
            }
        });
        BatchStream {
            schema,
            batches: rx,
            task,
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next batch, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<RecordBatch>> {
        self.batches.recv().await
    }

    /// The next batch, blocking this thread; for use outside the async runtime.
    pub fn blocking_next(&mut self) -> Option<Result<RecordBatch>> {
        self.batches.blocking_recv()
    }

    /// Stops the work now.
    pub fn close(&mut self) {
        self.task.abort();
        self.batches.close();
    }
}

/// Hands a batch to the consumer; `Cancelled` when it has gone away.
pub(crate) async fn send(tx: &BatchSender, batch: RecordBatch) -> Result<()> {
    tx.send(Ok(batch)).await.map_err(|_| Error::Cancelled)
}
