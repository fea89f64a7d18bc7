"""Sensors: battery, ranges, odometer, fuel, oil, charging state, charge limit, codes, data age;
with API v3 also tyres, the 12 V battery, the charge in progress, firmware and temperatures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfPower,
    UnitOfPressure,
    UnitOfSpeed,
    UnitOfTemperature,
    UnitOfTime,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api import (
    Battery,
    Charge,
    ChargeDetails,
    ChargeLimit,
    Climate,
    Connectivity,
    Diagnostics,
    EngineOil,
    Fuel,
    LowVoltageBattery,
    Odometer,
    Signal,
    SignalReading,
    Tires,
    UnitSystem,
)
from .const import CONF_MANAGEMENT_TOKEN
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator
from .entity import (
    SmartcarEntity,
    SmartcarEntityDescription,
    SmartcarSignalEntity,
    async_add_vehicle_entities,
)

PARALLEL_UPDATES = 0


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _distance_unit(unit_system: UnitSystem | None) -> str:
    if unit_system is UnitSystem.IMPERIAL:
        return UnitOfLength.MILES
    return UnitOfLength.KILOMETERS


def _speed_unit(unit_system: UnitSystem | None) -> str:
    if unit_system is UnitSystem.IMPERIAL:
        return UnitOfSpeed.MILES_PER_HOUR
    return UnitOfSpeed.KILOMETERS_PER_HOUR


def _volume_unit(unit_system: UnitSystem | None) -> str:
    if unit_system is UnitSystem.IMPERIAL:
        return UnitOfVolume.GALLONS
    return UnitOfVolume.LITERS


@dataclass(frozen=True, kw_only=True)
class SmartcarSensorDescription[R: SignalReading](
    SmartcarEntityDescription[R], SensorEntityDescription
):
    """A sensor reading one value out of a signal whose model is `R`."""

    value_fn: Callable[[R], StateType | datetime]
    # The unit follows the unit system Smartcar answered in (metric until it answers).
    unit_fn: Callable[[UnitSystem | None], str] | None = None
    attributes_fn: Callable[[R], Mapping[str, object]] | None = None

    def value(self, reading: SignalReading | None) -> StateType | datetime:
        """The value, or None (unknown) without a reading of this model."""
        read = self.read(reading)
        return None if read is None else self.value_fn(read)

    def attributes(self, reading: SignalReading | None) -> Mapping[str, object] | None:
        """The extra attributes, if this sensor has any and there is a reading."""
        read = self.read(reading)
        return None if read is None or self.attributes_fn is None else self.attributes_fn(read)


# The models sensors read: each description is checked against its own, and listing another
# model here is what it takes to add sensors reading it.
type SensorDescription = (
    SmartcarSensorDescription[Battery]
    | SmartcarSensorDescription[Charge]
    | SmartcarSensorDescription[ChargeLimit]
    | SmartcarSensorDescription[Odometer]
    | SmartcarSensorDescription[Fuel]
    | SmartcarSensorDescription[EngineOil]
    | SmartcarSensorDescription[Diagnostics]
    | SmartcarSensorDescription[Tires]
    | SmartcarSensorDescription[LowVoltageBattery]
    | SmartcarSensorDescription[ChargeDetails]
    | SmartcarSensorDescription[Connectivity]
    | SmartcarSensorDescription[Climate]
)

SENSORS: tuple[SensorDescription, ...] = (
    SmartcarSensorDescription(
        key="battery_level",
        signal=Signal.BATTERY,
        reading_type=Battery,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda r: _percent(r.percent_remaining),
    ),
    SmartcarSensorDescription(
        key="electric_range",
        translation_key="electric_range",
        signal=Signal.BATTERY,
        reading_type=Battery,
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda r: r.range,
        unit_fn=_distance_unit,
    ),
    SmartcarSensorDescription(
        key="charging_state",
        translation_key="charging_state",
        signal=Signal.CHARGE,
        reading_type=Charge,
        device_class=SensorDeviceClass.ENUM,
        options=["charging", "fully_charged", "not_charging"],
        value_fn=lambda r: r.state.lower() if r.state is not None else None,
    ),
    SmartcarSensorDescription(
        key="charge_limit",
        translation_key="charge_limit",
        signal=Signal.CHARGE_LIMIT,
        reading_type=ChargeLimit,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda r: _percent(r.limit),
    ),
    SmartcarSensorDescription(
        key="odometer",
        translation_key="odometer",
        signal=Signal.ODOMETER,
        reading_type=Odometer,
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0,
        value_fn=lambda r: r.distance,
        unit_fn=_distance_unit,
    ),
    SmartcarSensorDescription(
        key="fuel_level",
        translation_key="fuel_level",
        signal=Signal.FUEL,
        reading_type=Fuel,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda r: _percent(r.percent_remaining),
    ),
    SmartcarSensorDescription(
        key="fuel_remaining",
        translation_key="fuel_remaining",
        signal=Signal.FUEL,
        reading_type=Fuel,
        device_class=SensorDeviceClass.VOLUME_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda r: r.amount_remaining,
        unit_fn=_volume_unit,
    ),
    SmartcarSensorDescription(
        key="fuel_range",
        translation_key="fuel_range",
        signal=Signal.FUEL,
        reading_type=Fuel,
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda r: r.range,
        unit_fn=_distance_unit,
    ),
    SmartcarSensorDescription(
        key="engine_oil_life",
        translation_key="engine_oil_life",
        signal=Signal.ENGINE_OIL,
        reading_type=EngineOil,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda r: _percent(r.life_remaining),
    ),
    SmartcarSensorDescription(
        key="trouble_codes",
        translation_key="trouble_codes",
        signal=Signal.DIAGNOSTICS,
        reading_type=Diagnostics,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda r: None if r.active_codes is None else len(r.active_codes),
        attributes_fn=lambda r: {"codes": [c.code for c in r.active_codes or ()]},
    ),
    # API v3 only: each exists when the car reports its signal.
    SmartcarSensorDescription(
        key="tire_pressure_front_left",
        translation_key="tire_pressure_front_left",
        signal=Signal.TIRES,
        reading_type=Tires,
        device_class=SensorDeviceClass.PRESSURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPressure.KPA,
        suggested_display_precision=0,
        value_fn=lambda r: r.front_left,
    ),
    SmartcarSensorDescription(
        key="tire_pressure_front_right",
        translation_key="tire_pressure_front_right",
        signal=Signal.TIRES,
        reading_type=Tires,
        device_class=SensorDeviceClass.PRESSURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPressure.KPA,
        suggested_display_precision=0,
        value_fn=lambda r: r.front_right,
    ),
    SmartcarSensorDescription(
        key="tire_pressure_back_left",
        translation_key="tire_pressure_back_left",
        signal=Signal.TIRES,
        reading_type=Tires,
        device_class=SensorDeviceClass.PRESSURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPressure.KPA,
        suggested_display_precision=0,
        value_fn=lambda r: r.back_left,
    ),
    SmartcarSensorDescription(
        key="tire_pressure_back_right",
        translation_key="tire_pressure_back_right",
        signal=Signal.TIRES,
        reading_type=Tires,
        device_class=SensorDeviceClass.PRESSURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPressure.KPA,
        suggested_display_precision=0,
        value_fn=lambda r: r.back_right,
    ),
    SmartcarSensorDescription(
        key="low_voltage_battery",
        translation_key="low_voltage_battery",
        signal=Signal.LOW_VOLTAGE_BATTERY,
        reading_type=LowVoltageBattery,
        device_class=SensorDeviceClass.BATTERY,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda r: _percent(r.percent_remaining),
    ),
    SmartcarSensorDescription(
        key="time_to_complete",
        translation_key="time_to_complete",
        signal=Signal.CHARGE_DETAILS,
        reading_type=ChargeDetails,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda r: r.time_to_complete,
    ),
    SmartcarSensorDescription(
        key="energy_added",
        translation_key="energy_added",
        signal=Signal.CHARGE_DETAILS,
        reading_type=ChargeDetails,
        device_class=SensorDeviceClass.ENERGY,
        # Starts again at each charge: long-term statistics count a drop as a new cycle.
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=lambda r: r.energy_added,
    ),
    SmartcarSensorDescription(
        key="charge_rate",
        translation_key="charge_rate",
        signal=Signal.CHARGE_DETAILS,
        reading_type=ChargeDetails,
        device_class=SensorDeviceClass.SPEED,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda r: r.rate,
        unit_fn=_speed_unit,
    ),
    SmartcarSensorDescription(
        key="charger_power",
        translation_key="charger_power",
        signal=Signal.CHARGE_DETAILS,
        reading_type=ChargeDetails,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        value_fn=lambda r: r.power,
    ),
    SmartcarSensorDescription(
        key="firmware_version",
        translation_key="firmware_version",
        signal=Signal.CONNECTIVITY,
        reading_type=Connectivity,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda r: r.firmware_version,
    ),
    SmartcarSensorDescription(
        key="cabin_temperature",
        translation_key="cabin_temperature",
        signal=Signal.CLIMATE,
        reading_type=Climate,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=lambda r: r.cabin_temperature,
    ),
    SmartcarSensorDescription(
        key="outside_temperature",
        translation_key="outside_temperature",
        signal=Signal.CLIMATE,
        reading_type=Climate,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=lambda r: r.outside_temperature,
    ),
)


class SmartcarSensor(SmartcarSignalEntity[SignalReading], SensorEntity):
    """A value of one signal.

    Sensors show several models, so the entity is not generic over one: its description
    narrows the reading to its model and applies its functions (`value`, `attributes`).
    """

    entity_description: SensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The value, or None (unknown) when the car did not send a usable one."""
        return self.entity_description.value(self.reading)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Kilometres or miles, litres or gallons, as Smartcar answered."""
        unit_fn = self.entity_description.unit_fn
        if unit_fn is None:
            return self.entity_description.native_unit_of_measurement
        reading = self.reading
        return unit_fn(reading.meta.unit_system if reading is not None else None)

    @property
    def extra_state_attributes(self) -> Mapping[str, object] | None:
        """Extra details (the trouble codes themselves)."""
        return self.entity_description.attributes(self.reading)


def _data_age(coordinator: SmartcarCoordinator) -> datetime | None:
    """When the car last reported any of what we show (the newest `sc-data-age`)."""
    ages = [
        r.meta.data_age for r in coordinator.data.readings.values() if r.meta.data_age is not None
    ]
    return max(ages, default=None)


@dataclass(frozen=True, kw_only=True)
class SmartcarVehicleSensorDescription(SensorEntityDescription):
    """A sensor about the vehicle's connection rather than one signal; asks for nothing."""

    value_fn: Callable[[SmartcarCoordinator], StateType | datetime]
    exists_fn: Callable[[SmartcarCoordinator], bool] = lambda _: True


VEHICLE_SENSORS: tuple[SmartcarVehicleSensorDescription, ...] = (
    SmartcarVehicleSensorDescription(
        key="data_age",
        translation_key="data_age",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_data_age,
    ),
    SmartcarVehicleSensorDescription(
        key="requests_this_month",
        translation_key="requests_this_month",
        entity_category=EntityCategory.DIAGNOSTIC,
        # Starts again from 0 every month: long-term statistics count a drop as a new cycle.
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda c: c.requests_this_month,
    ),
    SmartcarVehicleSensorDescription(
        key="last_webhook",
        translation_key="last_webhook",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: c.last_webhook,
        exists_fn=lambda c: bool(c.config_entry.options.get(CONF_MANAGEMENT_TOKEN)),
    ),
    SmartcarVehicleSensorDescription(
        key="budget_remaining",
        translation_key="budget_remaining",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: c.budget_remaining,
        exists_fn=lambda c: c.budget_remaining is not None,
    ),
)


class SmartcarVehicleSensor(SmartcarEntity, SensorEntity):
    """Data age and request budget of a vehicle; listens without asking for any signal."""

    entity_description: SmartcarVehicleSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The value."""
        return self.entity_description.value_fn(self.coordinator)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors every vehicle can have."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        SENSORS,
        SmartcarSensor,
        more=lambda coordinator: [
            SmartcarVehicleSensor(coordinator, description)
            for description in VEHICLE_SENSORS
            if description.exists_fn(coordinator)
        ],
    )
