// Chain: stacks gRPC's generated WithRawCallbackMethod_* mixins on a
// service's base class, so each service lists its methods once.
#ifndef SOPSIDEBAR_SERVER_SERVICE_RAW_CALLBACK_SERVICE_H_
#define SOPSIDEBAR_SERVER_SERVICE_RAW_CALLBACK_SERVICE_H_

namespace sopsidebar {

namespace internal_service {
template <template <class> class... Methods>
struct Chain;
template <template <class> class First, template <class> class... Rest>
struct Chain<First, Rest...> {
  template <class Base>
  using On = First<typename Chain<Rest...>::template On<Base>>;
};
template <>
struct Chain<> {
  template <class Base>
  using On = Base;
};
}  // namespace internal_service

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_RAW_CALLBACK_SERVICE_H_
