// One-transaction writer used by imports.
#include "store/transaction_writer.h"

#include "store/schema.h"

namespace opsync::store {

TransactionWriter::TransactionWriter(const std::string& path) {
  db_ = std::make_unique<Db>(path, Db::Mode::ReadWrite);
  configure_connection(*db_, /*writer=*/true);
  migrate(*db_);
  tx_ = std::make_unique<Transaction>(*db_);
  inserter_ = std::make_unique<Inserter>(*db_);
}

TransactionWriter::~TransactionWriter() {
  inserter_.reset();  // finalize statements before the rollback/close
  tx_.reset();
}

void TransactionWriter::commit() { tx_->commit(); }

}  // namespace opsync::store
