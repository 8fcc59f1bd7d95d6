// All-or-nothing writing for imports: one connection, one transaction. Either everything given
// to it is committed by commit(), or (on an exception or destruction without commit) nothing.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "store/inserter.h"
#include "records/records.h"
#include "store/sqlite_db.h"

namespace opsync::store {

class TransactionWriter {
 public:
  // Opens or creates the file (migrating it) and begins the transaction. Throws StoreError.
  explicit TransactionWriter(const std::string& path);
  ~TransactionWriter();

  Inserter& insert() { return *inserter_; }
  void commit();

 private:
  std::unique_ptr<Db> db_;
  std::unique_ptr<Inserter> inserter_;
  std::unique_ptr<Transaction> tx_;
};

}  // namespace opsync::store
