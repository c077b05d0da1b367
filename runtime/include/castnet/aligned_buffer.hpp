// A zero-filled, 64-byte-aligned array of T whose length is fixed when it is made: the batch
// buffers and the storage of a model seen through its ModelView (train/erased_model.hpp), whose
// sizes are known only at run time. Copies copy the values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>

namespace castnet {

template <class T>
class AlignedBuffer {
 public:
  static constexpr std::size_t kAlign = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) : data_(allocate(n)), size_(n) { std::fill_n(data_.get(), n, T{}); }
  AlignedBuffer(const AlignedBuffer& other) : data_(allocate(other.size_)), size_(other.size_) {
    std::copy_n(other.data_.get(), size_, data_.get());
  }
  AlignedBuffer& operator=(const AlignedBuffer& other) {
    if (this != &other) {
      if (size_ != other.size_) *this = AlignedBuffer(other);
      else std::copy_n(other.data_.get(), size_, data_.get());
    }
    return *this;
  }
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  struct Free {
    void operator()(T* p) const noexcept { ::operator delete[](p, std::align_val_t{kAlign}); }
  };
  static std::unique_ptr<T[], Free> allocate(std::size_t n) {
    // At least one element, so that data() is never null and always aligned.
    return std::unique_ptr<T[], Free>(
        static_cast<T*>(::operator new[](std::max<std::size_t>(n, 1) * sizeof(T), std::align_val_t{kAlign})));
  }

  std::unique_ptr<T[], Free> data_;
  std::size_t size_ = 0;
};

}  // namespace castnet
